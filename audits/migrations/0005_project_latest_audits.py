# Each project keeps its latest and previous submitted audits (and their final scores), so the portfolio
# reads them from the project table. Existing projects are filled in from their audits.

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_latest_audits(apps, schema_editor):
    # The same UPDATE as audits.services.project_refresh_latest_audits, on this migration's models.
    Audit = apps.get_model("audits", "Audit")
    Project = apps.get_model("audits", "Project")
    submitted = Audit.objects.filter(project=OuterRef("pk"), status="submitted").order_by("-submitted_at", "-pk")
    Project.objects.update(
        last_audit=Subquery(submitted.values("pk")[:1]),
        last_audit_at=Subquery(submitted.values("submitted_at")[:1]),
        last_audit_final=Subquery(submitted.values("final_score")[:1]),
        previous_audit=Subquery(submitted.values("pk")[1:2]),
        previous_audit_final=Subquery(submitted.values("final_score")[1:2]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("audits", "0004_apitoken_push_project"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="last_audit",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="audits.audit",
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="last_audit_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="project",
            name="last_audit_final",
            field=models.DecimalField(blank=True, decimal_places=2, editable=False, max_digits=8, null=True),
        ),
        migrations.AddField(
            model_name="project",
            name="previous_audit",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="audits.audit",
            ),
        ),
        migrations.AddField(
            model_name="project",
            name="previous_audit_final",
            field=models.DecimalField(blank=True, decimal_places=2, editable=False, max_digits=8, null=True),
        ),
        migrations.RunPython(fill_latest_audits, migrations.RunPython.noop),
    ]
