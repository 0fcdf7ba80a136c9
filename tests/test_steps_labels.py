"""Field labels have one home, the models' verbose_name: the step form, the step table, the
readable document and the artifacts' CSV headings all print the same words."""

from django.urls import reverse

from escalation.artifacts import REGISTER_COLUMNS
from escalation.forms import BoundForm, FailureModeForm, GovernanceLevelForm, ThresholdForm
from escalation.models import AISystem, Bound, EscalationLevel, FailureMode, Threshold, field_label
from escalation.presentation import FIELD_LABELS


def _form_label(form_class, name):
    return form_class.base_fields[name].label


def _column_headings(client, engagement, step):
    html = client.get(reverse("step", args=[engagement.slug, step])).content.decode()
    return html[html.index("<thead>") : html.index("</thead>")]


def test_a_threshold_field_reads_the_same_in_form_table_document_and_csv(
    client, facilitator, engagement
):
    AISystem.objects.create(
        framework=engagement.framework, key="bot", name="Bot", model_name="m", workflow="w"
    )
    client.force_login(facilitator)
    label = field_label(Threshold, "data_source")
    assert label == "Data source"
    assert _form_label(ThresholdForm, "data_source") == label
    assert FIELD_LABELS["thresholds"]["data_source"] == label
    assert f">{label}</th>" in _column_headings(client, engagement, "thresholds")


def test_a_bound_field_reads_the_same_in_form_document_and_csv():
    label = field_label(Bound, "immediate_breach_value")
    assert label == "Immediate breach at"
    assert _form_label(BoundForm, "immediate_breach_value") == label
    assert FIELD_LABELS["bounds"]["immediate_breach_value"] == label
    assert ("immediate_breach", label) in REGISTER_COLUMNS


def test_a_governance_field_reads_the_same_in_form_table_and_document(
    client, facilitator, engagement
):
    client.force_login(facilitator)
    label = field_label(EscalationLevel, "cost_ceiling")
    assert _form_label(GovernanceLevelForm, "cost_ceiling") == label
    assert FIELD_LABELS["levels"]["cost_ceiling"] == label
    assert f">{label}</th>" in _column_headings(client, engagement, "governance")


def test_every_document_label_is_its_model_fields_verbose_name():
    assert FIELD_LABELS["failure_modes"]["long_term_fix"] == "Long-term fix"
    assert _form_label(FailureModeForm, "recommended_level") == field_label(
        FailureMode, "recommended_level"
    )
