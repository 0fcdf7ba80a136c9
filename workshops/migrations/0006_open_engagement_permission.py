from typing import Any

from django.db import migrations


def grant_to_facilitators(apps: Any, schema_editor: Any) -> None:
    """Whoever facilitates an engagement today opened it: they keep being able to."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    User = apps.get_model("auth", "User")
    content_type, _ = ContentType.objects.get_or_create(app_label="workshops", model="engagement")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="open_engagement",
        defaults={"name": "Can open engagements (consultants)"},
    )
    for user in User.objects.filter(memberships__role="facilitator").distinct():
        user.user_permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("workshops", "0005_day_note_row_version"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="engagement",
            options={
                "ordering": ["-start_date", "title"],
                "permissions": (("open_engagement", "Can open engagements (consultants)"),),
            },
        ),
        migrations.RunPython(grant_to_facilitators, migrations.RunPython.noop),
    ]
