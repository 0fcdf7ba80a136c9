from django.db import migrations, models

# `item` named a framework item's anchor string here and a row instance elsewhere: these columns
# hold the anchor ("levels/fine-tuning"). PostgreSQL keeps the index on a renamed column, so only
# Django's record of the index's fields changes.


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0003_audit_verbs"),
    ]

    operations = [
        migrations.RenameField(model_name="activity", old_name="item", new_name="anchor"),
        migrations.RenameField(model_name="comment", old_name="item", new_name="anchor"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="activity", name="activity_by_item"),
                migrations.AddIndex(
                    model_name="activity",
                    index=models.Index(fields=["engagement", "anchor"], name="activity_by_item"),
                ),
            ],
        ),
    ]
