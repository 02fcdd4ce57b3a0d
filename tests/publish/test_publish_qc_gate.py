"""The quality gate at publish time (issue 11): a rejected build never publishes, an auto-approved one
publishes without a person only where the brand opts in (qc.autopublish), everything else needs approval."""
from __future__ import annotations

import json

from core.qc import Finding, QCReport, verdict_of
from core.spec import QC
from publish.qcstore import get_qc
from publish_support import BRAND_COSMOS, assert_published, sha

KEY = "cosmos/dark-sky"


def judge(world, findings: list[Finding], *, qc: QC | None = None, key: str = KEY) -> QCReport:
    """Give the unit's build a qc.json and the manifest's summary, as the compiler materializes them."""
    d = world.root / "build" / key
    report = QCReport(video=key, format="long", verdict=verdict_of(findings), findings=findings,
                      thresholds=(qc or QC()).model_dump(mode="json"))
    (d / "qc.json").write_text(json.dumps(report.model_dump(mode="json"), sort_keys=True))
    manifest = json.loads((d / "manifest.json").read_text())
    manifest["qc"] = {"verdict": report.verdict, "errors": sum(f.severity == "error" for f in findings),
                      "warnings": sum(f.severity == "warning" for f in findings), "infos": 0,
                      "digest": sha((d / "qc.json").read_bytes()), "step": f"{key}/long/qc/verdict", "key": "q" * 64}
    (d / "manifest.json").write_text(json.dumps(manifest))
    return report


def autopublish(world) -> None:
    (world.root / "brands/cosmos.yaml").write_text(BRAND_COSMOS + "qc:\n  autopublish: true\n")


TITLE = Finding(check="script.title_length", scene=None, severity="error", reason="metadata.title",
                message="the title has 110 characters; YouTube allows 100", field=["title"], value=110, limit=100)


def test_a_rejected_build_never_publishes_even_when_approved(world):
    world.build()
    judge(world, [TITLE])
    world.approve(reason="looks fine to me")
    report = world.publish()
    assert not report.ok and report.by_status() == {"refused": [KEY]}
    message = report.outcomes[0].message
    assert "QC rejected build" in message and "script.title_length" in message and "110 characters" in message
    assert "doit qc" in message
    assert world.fake.requests == []  # nothing was sent, not even a dry question
    dry = world.publish(dry_run=True)
    assert dry.by_status() == {"refused": [KEY]}


def test_an_auto_approved_build_publishes_without_a_person_where_the_brand_opts_in(world):
    world.build()
    judge(world, [], qc=QC(autopublish=True))
    autopublish(world)
    report = world.publish()
    assert report.ok and report.by_status() == {"published": [KEY]}
    assert any("without a human review" in w for w in report.outcomes[0].warnings)
    assert_published(world)
    digest = json.loads((world.root / "build" / KEY / "manifest.json").read_text())["build_digest"]
    assert get_qc(world.ledger(), KEY, digest).verdict == "auto-approve"  # the ledger knows why


def test_without_the_opt_in_an_auto_approved_build_still_needs_approval(world):
    world.build()
    judge(world, [])
    report = world.publish()
    assert report.by_status() == {"not-approved": [KEY]} and world.fake.requests == []
    world.approve()
    assert world.publish().by_status() == {"published": [KEY]}


def test_a_flagged_build_needs_a_person_even_with_autopublish(world):
    world.build()
    judge(world, [Finding(check="script.hook_length", scene=0, severity="warning", reason="script.weak_hook",
                          message="the hook is long")], qc=QC(autopublish=True))
    autopublish(world)
    assert world.publish().by_status() == {"not-approved": [KEY]}
    world.approve()
    assert world.publish().by_status() == {"published": [KEY]}


def test_a_report_judged_under_other_thresholds_does_not_autopublish(world):
    world.build()
    judge(world, [])  # judged with autopublish off; the brand has changed its qc: block since
    autopublish(world)
    assert world.publish().by_status() == {"not-approved": [KEY]}


def test_a_hand_edited_qc_json_is_refused(world):
    world.build()
    judge(world, [TITLE])
    world.approve()
    d = world.root / "build" / KEY
    report = json.loads((d / "qc.json").read_text())
    (d / "qc.json").write_text(json.dumps({**report, "verdict": "auto-approve", "findings": []}))
    report = world.publish()
    assert report.by_status() == {"failed": [KEY]}
    assert "qc.json does not match manifest.json" in report.outcomes[0].message


def test_builds_without_qc_keep_the_approval_gate(world):
    world.build()  # a build made before QC existed: no qc.json, no manifest summary
    assert world.publish().by_status() == {"not-approved": [KEY]}
