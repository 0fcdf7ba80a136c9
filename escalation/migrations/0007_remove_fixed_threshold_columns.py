"""The fixed bound columns of thresholds, gone now that 0005 turned each into a Bound row.

A migration of its own: PostgreSQL refuses to alter a table in the transaction that just wrote
rows with deferred constraint checks pending (0005's data step)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("escalation", "0006_threshold_bounds")]

    operations = [
        migrations.RemoveConstraint(
            model_name='threshold',
            name='threshold_quality_floor_between_0_and_100',
        ),
        migrations.RemoveConstraint(
            model_name='threshold',
            name='threshold_error_rate_between_0_and_100',
        ),
        migrations.RemoveConstraint(
            model_name='threshold',
            name='threshold_confidence_between_0_and_1',
        ),
        migrations.RemoveConstraint(
            model_name='threshold',
            name='threshold_latency_positive',
        ),
        migrations.RemoveField(
            model_name='escalationlevel',
            name='trigger_thresholds',
        ),
        migrations.RemoveField(
            model_name='threshold',
            name='confidence_minimum',
        ),
        migrations.RemoveField(
            model_name='threshold',
            name='error_rate_ceiling_pct',
        ),
        migrations.RemoveField(
            model_name='threshold',
            name='latency_limit_ms',
        ),
        migrations.RemoveField(
            model_name='threshold',
            name='latency_percentile',
        ),
        migrations.RemoveField(
            model_name='threshold',
            name='quality_floor',
        ),
        migrations.RemoveField(
            model_name='threshold',
            name='quality_metric',
        ),
        migrations.RemoveField(
            model_name='threshold',
            name='throughput_floor_rpm',
        ),
    ]
