# The dashboards read each project's latest submitted audits; this partial index serves them without a sort.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0002_apitoken"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="audit",
            index=models.Index(
                condition=models.Q(("status", "submitted")),
                fields=["project", "-submitted_at", "-id"],
                name="audit_project_latest_submitted",
            ),
        ),
    ]
