"""Deploy-ready monitoring files of a signed-off framework version: Prometheus rules and their
promtool unit tests, OpenSLO, and a LiteLLM fragment where a level routes. Pure functions of the
frozen document and its stamp, so one version always gives the same bytes; docs/monitoring-exports.md
says what each file expects and does."""

from __future__ import annotations

from typing import Any

from escalation.document import upgrade_document
from escalation.exports.litellm import LITELLM_FILE, litellm_file, routing_levels
from escalation.exports.monitored import Stamp, monitored_bounds
from escalation.exports.openslo import OPENSLO_FILE, openslo_file
from escalation.exports.prometheus import RULES_FILE, TESTS_FILE, rules_file, tests_file

FILE_NAMES = [RULES_FILE, TESTS_FILE, OPENSLO_FILE, LITELLM_FILE]
CONTENT_TYPE = "application/yaml; charset=utf-8"

__all__ = ["CONTENT_TYPE", "FILE_NAMES", "Stamp", "monitoring_file_names", "monitoring_files"]


def monitoring_files(document: dict[str, Any], stamp: Stamp) -> dict[str, str]:
    """Each file's name and text, in FILE_NAMES order; litellm.yaml only where a level routes."""
    document = upgrade_document(document)
    bounds = monitored_bounds(document)
    name = document.get("name", "")
    files = {
        RULES_FILE: rules_file(bounds, stamp, name),
        TESTS_FILE: tests_file(bounds, stamp, name),
        OPENSLO_FILE: openslo_file(bounds, stamp, name),
    }
    if (fragment := litellm_file(document, stamp)) is not None:
        files[LITELLM_FILE] = fragment
    return files


def monitoring_file_names(document: dict[str, Any]) -> list[str]:
    """The files a document exports, without rendering them."""
    names = [RULES_FILE, TESTS_FILE, OPENSLO_FILE]
    return names + ([LITELLM_FILE] if routing_levels(upgrade_document(document)) else [])
