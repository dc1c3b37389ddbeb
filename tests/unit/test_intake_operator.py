"""The operator service's case intakes (FL1): who may read, review and send; what is audited
(ids, never answers); the Flow queued like any operator message, opt-outs refused."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from tests.unit.operator_fakes import NOW, World
from wagate.domain.capabilities import Capabilities
from wagate.domain.case_intake import IntakeFlow, parse_flow_reply
from wagate.domain.messages import Provider
from wagate.domain.operators import Role
from wagate.domain.window import TemplateSet
from wagate.pipeline.operator import (
    Actor,
    Conflict,
    Forbidden,
    NotFound,
    OperatorService,
    Rejected,
)
from wagate.pipeline.ports import NewIntake
from wagate.testing import MemoryCaseIntakes

FLOW = IntakeFlow(flow_id="400000000000001")
ANSWERS = {
    "full_name": "Siti Aminah",
    "nik": "3171014509900002",
    "phone": "081200000002",
    "case_type": "keluarga",
    "story": "Gugatan cerai dan hak asuh anak.",
}


def as_role(role: Role) -> Actor:
    return Actor(via="api", user=f"{role.value}-1", role=role)


@dataclass
class IntakeWorld(World):
    intakes: MemoryCaseIntakes = field(default_factory=MemoryCaseIntakes)
    flow: IntakeFlow = FLOW
    meta_flows: bool = True

    def service(self) -> OperatorService:
        return OperatorService.build(
            audit=self.audit,
            clock=lambda: NOW,
            accounts=self.accounts,
            outbox=self.outbox,
            channels=self.channels,
            capabilities={
                Provider.FONNTE: Capabilities(media=True),
                Provider.META: Capabilities(templates=True, window_24h=True, flows=self.meta_flows),
            },
            templates=TemplateSet(),
            link_code_text="Kode {code}",
            dead_letters=self.dead_letters,
            credentials=self.credentials,
            rights=self.rights,
            keys=self.keys,
            users=self.users,
            passwords=self.passwords,
            recipients=self,
            case_intakes=self.intakes,
            intake_flow=self.flow,
        )

    async def intake(self, answers: dict[str, object] | None = None) -> int:
        stored = await self.intakes.record(
            NewIntake(
                conversation_id=7,
                provider=Provider.META,
                provider_message_id=f"wamid.flow.{len(self.intakes.rows)}",
                received_at=NOW - timedelta(minutes=5),
                parsed=parse_flow_reply(json.dumps(answers or ANSWERS)),
            )
        )
        return stored.id


async def test_listing_and_showing_are_for_every_role_and_a_view_is_audited() -> None:
    w = IntakeWorld()
    intake_id = await w.intake()
    intakes = w.service().intakes
    assert intakes is not None
    viewer = as_role(Role.VIEWER)
    [listed] = await intakes.listing(by=viewer)
    assert listed["name"] == "Siti Aminah" and listed["caseTypeLabel"].startswith("Keluarga")
    assert "answers" not in listed and "nik" not in json.dumps(listed, default=str)
    shown = await intakes.show(intake_id, by=viewer)
    assert shown["answers"]["nik"] == "3171014509900002"
    [event] = w.audit.events
    assert (event.action, event.actor, event.subject) == (
        "case_intake.viewed",
        "user:viewer-1:api",
        f"case_intake:{intake_id}",
    )
    assert event.details == {"conversation": 7}
    with pytest.raises(NotFound):
        await intakes.show(999, by=viewer)
    with pytest.raises(Rejected):
        await intakes.listing(by=viewer, status="archived")


async def test_a_lawyer_marks_an_intake_reviewed_once_and_staff_may_not() -> None:
    w = IntakeWorld()
    intake_id = await w.intake()
    intakes = w.service().intakes
    assert intakes is not None
    with pytest.raises(Forbidden):
        await intakes.review(intake_id, by=as_role(Role.STAFF))
    reviewed = await intakes.review(intake_id, by=as_role(Role.LAWYER))
    assert reviewed["status"] == "reviewed" and reviewed["reviewedBy"] == "user:lawyer-1:api"
    with pytest.raises(Conflict):
        await intakes.review(intake_id, by=as_role(Role.LAWYER))
    assert [e.action for e in w.audit.events] == ["case_intake.reviewed"]
    assert await intakes.listing(by=as_role(Role.VIEWER), status="new") == []


async def test_sending_queues_the_flow_through_the_provider_that_has_flows() -> None:
    w = IntakeWorld()
    intakes = w.service().intakes
    assert intakes is not None
    receipt = await intakes.send("0812-0000-0003", by=as_role(Role.STAFF), key="k1")
    assert receipt.provider is Provider.META and receipt.target == "6281200000003"
    queued = w.outbox.queued["api:k1"]
    assert queued["kind"] == "intake_flow" and "DAFTAR" in queued["text"]
    assert queued["flow"]["flowId"] == "400000000000001"
    assert queued["flow"]["flowToken"] == FLOW.invitation("api:k1").flow_token
    again = await intakes.send("6281200000003", by=as_role(Role.STAFF), key="k1")
    assert again.queued == 0 and len(w.outbox.queued) == 1
    [first, second] = w.audit.events
    assert first.action == "case_intake.invited" and first.details["queued"] == 1
    assert "6281200000003" not in json.dumps([first.details, second.details])


async def test_sending_is_refused_without_a_flow_without_flows_or_to_an_opt_out() -> None:
    staff = as_role(Role.STAFF)
    unset = IntakeWorld(flow=IntakeFlow()).service().intakes
    assert unset is not None
    with pytest.raises(Rejected, match="INTAKE_FLOW_ID"):
        await unset.send("6281200000003", by=staff)
    no_flows = IntakeWorld(meta_flows=False).service().intakes
    assert no_flows is not None
    with pytest.raises(Rejected, match="Flows"):
        await no_flows.send("6281200000003", by=staff)
    w = IntakeWorld(refused={"6281200000004"})
    intakes = w.service().intakes
    assert intakes is not None
    with pytest.raises(Conflict):
        await intakes.send("6281200000004", by=staff)
    assert w.outbox.queued == {}
    assert [e.action for e in w.audit.events] == ["operator.refused_opted_out"]
    with pytest.raises(Forbidden):
        await intakes.send("6281200000003", by=as_role(Role.LAWYER))


async def test_without_a_store_there_is_no_intake_group() -> None:
    assert World().service().intakes is None
