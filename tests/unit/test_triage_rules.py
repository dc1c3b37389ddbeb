"""Triage rules (AI7): the default rules' zones, the general-question guards, a red follow-up,
the firm's rules file over the defaults, a bad file refused at start, and the combined triage
with a model beside the rules (in memory here; over real HTTP in
tests/contract/test_zone_classifier.py)."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

from wagate.domain.triage_rules import (
    FOLLOW_UP_RULE,
    SCORE_RULE,
    TriageRulesError,
    classify,
    danger_score,
    parse_rules,
    read,
)
from wagate.domain.word_roots import candidate_roots, is_offence_noun
from wagate.domain.zones import Zone
from wagate.pipeline.zone_triage import RulesAndModelTriage
from wagate.settings import ConfigurationError, load_settings
from wagate.triage_rules import load_rule_set
from wagate.triage_rules.factory import build_zone_triage

RULES = load_rule_set()


def zone(text: str, history: Sequence[str] = ()) -> Zone:
    return classify(text, history, RULES).zone


# ------------------------------------------------------------------ the default rules


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("suami sy lg mukulin sy skrg", "violence_now"),
        ("polisi dtg bawa adik sy skrg, ga ada surat", "arrest_now"),
        ("dia bilang mau bunuh sy kalo sy lapor", "threat_to_life"),
        ("sy pgn ngakhirin hidup", "self_harm"),
        ("anak tetangga dikurung di gudang", "child_at_risk"),
        ("sy disekap di mess, ga boleh keluar", "kidnap_or_locked_in"),
        ("dia nunggu di depan rumah bawa golok", "weapon"),
        ("tolongggg", "plea_for_help"),
    ],
)
def test_each_kind_of_danger_is_red_by_its_rule(text: str, rule: str) -> None:
    call = classify(text, (), RULES)
    assert call.zone is Zone.RED
    assert rule in call.rules
    assert call.source == "rules"


def test_danger_told_calmly_is_still_red() -> None:
    calm = (
        "Maaf mengganggu malam-malam. Suami saya tadi mendorong saya sampai kepala berdarah. "
        "Sekarang dia tidur. Besok saya harus bagaimana?"
    )
    assert zone(calm) is Zone.RED
    assert zone("gpp kok, sy cuma mau tau hak asuh anak kalau sy ga ada. sy udh nulis surat") is (
        Zone.RED
    )


@pytest.mark.parametrize(
    "text",
    [
        "hukuman pembunuhan berapa tahun?",
        "cara lapor KDRT secara umum gmn ya",
        "bunuh diri itu ada pasalnya di KUHP? buat skripsi",
        "di berita ada anak dianiaya ortunya, itu pasal apa?",
        "senjata tajam apa yg dilarang dibawa menurut UU darurat?",
    ],
)
def test_alarming_words_in_a_general_question_are_not_red(text: str) -> None:
    assert zone(text) is Zone.GREEN


def test_the_guard_yields_when_the_writer_speaks_of_themselves() -> None:
    # "pasal" is a general marker, but "saya" and a threat now make it the writer's danger.
    assert zone("pasal apa kalau suami ancam bunuh saya malam ini?") is Zone.RED


@pytest.mark.parametrize(
    "text",
    [
        "suami saya selingkuh, sy mau cerai gmn caranya",
        "sy di-PHK tanpa pesangon, apa yg hrs sy lakukan?",
        "tanah kami diserobot tetangga",
        "bojoku ora tau ngekei duwit, aku iso njaluk cerai ora?",
        "kira2 kasus sy bisa menang ga?",
        "developer ga nyerahin sertifikat padahal udah lunas",
    ],
)
def test_own_case_is_yellow(text: str) -> None:
    assert zone(text) is Zone.YELLOW


@pytest.mark.parametrize(
    "text",
    ["kantor buka jam brp?", "syarat cerai apa aja?", "halo sy mau tanya jam buka", "makasih"],
)
def test_general_information_is_green(text: str) -> None:
    call = classify(text, (), RULES)
    assert call.zone is Zone.GREEN
    assert call.rules == ()


def test_past_violence_with_no_danger_now_is_yellow_not_red() -> None:
    assert zone("sy mau lapor suami krn dulu sering mukul, skrg kami udh pisah rumah") is (
        Zone.YELLOW
    )


def test_message_is_read_as_typed_and_with_chat_words_expanded() -> None:
    reading = read("Sy td dipukulin", RULES.words)
    typed, expanded = reading.text.split(" | ")
    assert typed == "sy td dipukulin"
    assert expanded == "saya tadi dipukul"
    assert reading.words == 3


# ------------------------------------------------------------------ history


def test_a_short_follow_up_to_a_red_message_stays_red() -> None:
    history = ["suami sy lg mukulin sy", "ok"]
    call = classify("ok makasih, sy tunggu", history, RULES)
    assert call.zone is Zone.RED
    assert call.rules == (FOLLOW_UP_RULE,)


def test_a_follow_up_without_red_history_is_judged_alone() -> None:
    assert zone("ok makasih, sy tunggu", ["kantor buka jam brp?"]) is Zone.GREEN


def test_only_recent_turns_count() -> None:
    old_red = ["suami sy lg mukulin sy", "a", "b", "c"]  # three turns since
    assert zone("ok makasih", old_red) is Zone.GREEN


def test_a_long_message_after_red_is_judged_on_its_own() -> None:
    long_green = " ".join(["kantor buka jam berapa"] * 8)
    assert zone(long_green, ["suami sy lg mukulin sy"]) is Zone.GREEN


# ------------------------------------------------------------------ the firm's file


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_firm_rule_adds_a_zone_the_defaults_lack(tmp_path: Path) -> None:
    assert zone("ada banjir bandang di kampung") is Zone.GREEN
    rules = load_rule_set(
        _write(tmp_path, '[rules.disaster]\nzone = "red"\nphrases = ["banjir bandang"]\n')
    )
    call = classify("ada banjir bandang di kampung", (), rules)
    assert (call.zone, call.rules) == (Zone.RED, ("disaster",))
    assert len(rules.rules) == len(RULES.rules) + 1


def test_a_firm_rule_replaces_the_default_of_the_same_name(tmp_path: Path) -> None:
    rules = load_rule_set(
        _write(tmp_path, '[rules.weapon]\nzone = "yellow"\nphrases = ["keris"]\n')
    )
    weapon = rules.rule("weapon")
    assert weapon is not None and weapon.zone is Zone.YELLOW
    assert weapon.phrases.texts == ("keris",)
    # the default phrases are gone (the danger score still weighs the weapon on its own)
    assert "weapon" not in classify("dia bawa golok", (), rules).rules


def test_extend_adds_phrases_to_a_default_rule(tmp_path: Path) -> None:
    rules = load_rule_set(_write(tmp_path, '[rules.weapon]\nextend = true\nphrases = ["keris"]\n'))
    # (the danger score weighs "keris" too: the rule's own name shows the extension counted)
    assert "weapon" not in classify("dia bawa keris", (), RULES).rules
    assert "weapon" in classify("dia bawa keris", (), rules).rules
    assert classify("dia bawa golok", (), rules).zone is Zone.RED


def test_enabled_false_removes_a_default_rule(tmp_path: Path) -> None:
    rules = load_rule_set(_write(tmp_path, "[rules.plea_for_help]\nenabled = false\n"))
    assert rules.rule("plea_for_help") is None
    assert classify("tolong", (), rules).zone is Zone.GREEN


def test_guards_and_words_extend_the_defaults(tmp_path: Path) -> None:
    rules = load_rule_set(
        _write(
            tmp_path,
            '[words]\nbacot = "ancam"\n[guards]\ngeneral = ["kuis"]\n[history]\nturns = 0\n',
        )
    )
    assert "kuis" in rules.general.texts and "film" in rules.general.texts
    assert rules.words["bacot"] == "ancam"
    assert classify("ok", ["suami sy lg mukulin sy"], rules).zone is Zone.GREEN


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[rules.x]\nzone = "orange"\nphrases = ["a"]\n', "'orange' is not green, yellow or red"),
        ('[rules.x]\nzone = "red"\n', "needs at least one phrase"),
        ('[rules.x]\nzone = "red"\nphrases = "golok"\n', "must be a list of strings"),
        ('[rules.x]\nzone = "red"\nphrases = ["a ** b"]\n', "is not a word"),
        ('[rules.x]\nzone = "red"\nphrases = ["a"]\ncolour = 1\n', "rules.x.colour is unknown"),
        ('[rules.x]\nzone = "red"\nphrases = ["a"]\nmax_words = -1\n', "max_words must be"),
        ("[rulez]\n", "unknown table 'rulez'"),
        ("[rules.x\n", "not valid TOML"),
    ],
)
def test_a_bad_file_is_a_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TriageRulesError) as caught:
        load_rule_set(path)
    assert expected in str(caught.value)
    assert str(path) in str(caught.value)


def test_every_problem_is_named_at_once() -> None:
    with pytest.raises(TriageRulesError) as caught:
        parse_rules({"rules": {"a": {"zone": "blue", "phrases": ["x"]}, "b": {"zone": "red"}}})
    assert "rules.a.zone" in str(caught.value) and "rules.b.phrases" in str(caught.value)


def test_a_bad_rules_file_stops_the_settings_check(tmp_path: Path) -> None:
    bad = _write(tmp_path, '[rules.x]\nzone = "merah"\nphrases = ["a"]\n')
    with pytest.raises(ConfigurationError, match=r"TRIAGE_RULES_FILE: .*'merah'"):
        load_settings(triage_rules_file=bad)
    with pytest.raises(ConfigurationError, match=r"TRIAGE_RULES_FILE: .*cannot read"):
        load_settings(triage_rules_file=tmp_path / "missing.toml")
    good = _write(tmp_path, '[rules.x]\nzone = "red"\nphrases = ["banjir"]\n')
    assert load_settings(triage_rules_file=good).triage_rules_file == good


# ------------------------------------------------------------------ rules and a model


class ScriptedClassifier:
    def __init__(self, answer: Zone | Exception) -> None:
        self.answer = answer
        self.asked: list[str] = []

    async def classify(self, question: str) -> Zone:
        self.asked.append(question)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def test_red_by_rule_never_asks_the_model() -> None:
    model = ScriptedClassifier(Zone.GREEN)
    call = await RulesAndModelTriage(RULES, model)("suami sy lg mukulin sy")
    assert (call.zone, call.source) == (Zone.RED, "rules")
    assert model.asked == []


async def test_the_model_may_raise_a_zone_but_never_lower_it() -> None:
    raised = await RulesAndModelTriage(RULES, ScriptedClassifier(Zone.YELLOW))("syarat cerai?")
    assert (raised.zone, raised.source) == (Zone.YELLOW, "ai")
    kept = await RulesAndModelTriage(RULES, ScriptedClassifier(Zone.GREEN))("tanah kami diserobot")
    assert (kept.zone, kept.source) == (Zone.YELLOW, "rules")


@pytest.mark.parametrize("failure", [TimeoutError(), ValueError("unclear"), RuntimeError("x")])
async def test_a_failing_model_leaves_the_rules_zone(failure: Exception) -> None:
    call = await RulesAndModelTriage(RULES, ScriptedClassifier(failure))("tanah kami diserobot")
    assert (call.zone, call.source) == (Zone.YELLOW, "rules")


class _Settings:
    def __init__(self, path: Path | None, ai: bool = True) -> None:
        self.triage_rules_file = path
        self.triage_ai = ai
        self.triage_ai_timeout_seconds = 1.0
        self.triage_model = False  # the rules' own behaviour (the detector: test_triage_model)


async def test_factory_builds_rules_only_without_ai(tmp_path: Path) -> None:
    path = _write(tmp_path, '[rules.disaster]\nzone = "red"\nphrases = ["banjir bandang"]\n')
    triage = build_zone_triage(_Settings(path), None)
    assert isinstance(triage, RulesAndModelTriage) and triage.classifier is None
    assert (await triage("banjir bandang!")).zone is Zone.RED
    off = build_zone_triage(_Settings(None, ai=False), object())  # type: ignore[arg-type]
    assert isinstance(off, RulesAndModelTriage) and off.classifier is None


def test_a_plea_counts_as_now_for_an_arrest() -> None:
    assert zone("tolong, polisi nangkep suami sy di jalan") is Zone.RED
    assert zone("suami sy ditangkap polisi bulan lalu, sidangnya kapan?") is Zone.YELLOW


# ------------------------------------------------------------------ the evaluation script


def _load_eval() -> ModuleType:
    path = Path(__file__).parent.parent.parent / "benchmarks" / "triage_eval.py"
    spec = importlib.util.spec_from_file_location("triage_eval", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_evaluation_exits_2_when_a_goal_is_missed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    triage_eval = _load_eval()
    labelled = tmp_path / "set.jsonl"
    rows = [
        {"id": "a", "text": "suami sy lg mukulin sy", "zone": "red"},
        {"id": "b", "text": "ada banjir bandang di kampung", "zone": "red"},  # no rule: green
        {"id": "c", "text": "kantor buka jam brp", "zone": "green"},
    ]
    labelled.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert triage_eval.main(["--set", str(labelled)]) == 0
    assert triage_eval.main(["--set", str(labelled), "--check"]) == 2
    printed = capsys.readouterr().out
    assert "red recall             0.500  MISSED" in printed
    firm = _write(tmp_path, '[rules.disaster]\nzone = "red"\nphrases = ["banjir bandang"]\n')
    assert triage_eval.main(["--set", str(labelled), "--rules", str(firm), "--check"]) == 0
    assert triage_eval.main(["--set", str(tmp_path / "missing.jsonl")]) == 1


def test_the_evaluation_can_show_the_score_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    triage_eval = _load_eval()
    labelled = tmp_path / "set.jsonl"
    rows = [
        {"id": "a", "text": "suami sy barusan nyekek sy", "zone": "red"},  # the score's
        {"id": "b", "text": "tolongggg", "zone": "red"},  # a phrase rule's only
    ]
    labelled.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    assert triage_eval.main(["--set", str(labelled), "--check"]) == 0
    capsys.readouterr()
    assert triage_eval.main(["--set", str(labelled), "--score-only", "--errors"]) == 0
    printed = capsys.readouterr().out
    assert "red recall             0.500" in printed
    assert "b: red → green [-] (score 1: fear) 'tolongggg'" in printed


@pytest.mark.parametrize(
    "text", ["", "🙏🙏🙏", "   ", "Ｐａｓａｌ ３５１", "ancam a a a a a a " * 80, "tolong " * 150]
)
def test_any_text_gets_a_zone_quickly(text: str) -> None:
    call = classify(text, ["", "🙏"], RULES)
    assert call.zone in set(Zone)


def test_a_phrase_with_a_caret_matches_only_at_the_start() -> None:
    rules = parse_rules({"rules": {"x": {"zone": "red", "phrases": ["^ apa itu"]}}})
    assert classify("apa itu somasi?", (), rules).zone is Zone.RED
    # "apakah itu" reads "apa itu" once expanded, but not at the start here
    assert classify("Kalau dikunci terus, apakah itu wajar?", (), rules).zone is Zone.GREEN
    assert zone("apa itu penculikan?") is Zone.GREEN


def test_a_short_question_that_starts_with_tolong_is_not_a_plea() -> None:
    assert zone("tolong info syarat cerai") is Zone.GREEN
    assert zone("tolong jelaskan hukuman pembunuhan") is Zone.GREEN
    assert zone("tolong saya") is Zone.RED


# ------------------------------------------------------- word roots and the danger score


@pytest.mark.parametrize(
    ("word", "root"),
    [
        ("dipukul", "pukul"),
        ("memukul", "pukul"),
        ("mukulin", "pukul"),
        ("dipukulinnya", "pukul"),
        ("menendang", "tendang"),
        ("nyiksa", "siksa"),
        ("nyekik", "cekik"),
        ("ngancam", "ancam"),
        ("ngegampar", "gampar"),
        ("digebuki", "gebuk"),  # Javanese di-…-i
        ("ngantemi", "antem"),
        ("dianiayanya", "aniaya"),
        ("ditangkepin", "tangkep"),  # Betawi -in
        ("terluka", "luka"),
    ],
)
def test_a_word_is_read_back_to_the_root_it_is_built_from(word: str, root: str) -> None:
    assert root in candidate_roots(word)


def test_short_remains_are_not_roots() -> None:
    assert all(len(r) >= 3 for r in candidate_roots("dikunya"))
    assert "pukul" not in candidate_roots("pukulan2")  # no digits in a word here


def test_reduplication_and_a_clock_time_are_read_right() -> None:
    assert "pukul" in read("dipukul-pukul", {}).roots
    assert "pukul" in read("dipukul2", {}).roots
    assert "pukul" not in read("kantor buka pukul 9 hari ini?", {}).roots
    assert zone("kantor buka pukul 9 hari ini?") is not Zone.RED


@pytest.mark.parametrize(
    "text",
    [
        # forms of danger roots that no phrase rule lists
        "bojoku ngantemi aku meneh bengi iki",
        "pacarku nonjokin aku terus",
        "kakak sy dianiayanya sampe giginya copot",
        "sy dikerangkeng di belakang rumah majikan",
        "mertua nyeburin anak sy ke ember air",
    ],
)
def test_the_score_catches_danger_in_forms_nobody_listed(text: str) -> None:
    call = classify(text, (), RULES)
    assert call.zone is Zone.RED
    assert SCORE_RULE in call.rules


def test_the_score_adds_up_cue_classes_and_names_them() -> None:
    total, cues = danger_score("suami sy barusan nyekek sy", RULES)
    assert cues == ("violence", "now", "person")
    assert total == 6


@pytest.mark.parametrize(
    "text",
    [
        "apa hukuman orang yang menganiaya hewan?",  # a general question
        "saya dosen, mau undang pembicara seminar soal penganiayaan",  # study frame beats 'saya'
        "anak sy mau dikeluarkan dr sekolah krn berantem",  # ignore_words: not 'antem'
        "hp sy mati terus dari tadi, bisa konsultasi lewat email?",  # 'mati' of a phone
        "Jam buka kantor pukul delapan.",  # a clock time in words
        "Lampirkan akta kematian pewaris.",  # the paperwork of a death
        "kunci rumah kontrakan sy hilang, pemilik minta ganti",  # a key, not locking in
        "mantan sy gk ngebolehin ketemu anak",  # access to a child: a custody case
    ],
)
def test_the_score_stays_below_red_for_frames_and_look_alikes(text: str) -> None:
    assert SCORE_RULE not in classify(text, (), RULES).rules


def test_past_violence_takes_the_score_below_red() -> None:
    past, _ = danger_score("dulu sy pernah dipukul mantan suami, udah pisah rumah", RULES)
    now, _ = danger_score("sy dipukul suami tadi", RULES)
    assert past < RULES.score.threshold <= now  # type: ignore[union-attr]


def test_a_firm_can_change_the_score_in_its_file(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
[score]
threshold = 9
[score.cues.violence]
extend = true
roots = ["gaplek"]
[score.cues.legal_matter]
enabled = false
""",
    )
    rules = load_rule_set(path)
    assert rules.score is not None and rules.score.threshold == 9
    assert "legal_matter" not in {c.name for c in rules.score.cues}
    violence = next(c for c in rules.score.cues if c.name == "violence")
    assert {"gaplek", "pukul"} <= violence.roots
    assert SCORE_RULE not in classify("sy digaplekin suami tadi", (), rules).rules
    off = load_rule_set(_write(tmp_path, "[score]\nenabled = false\n"))
    assert off.score is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[score]\nthreshold = 'high'\n", "score.threshold must be a whole number"),
        ("[score]\nneeds_any = ['nothing']\n", "'nothing' names no cue"),
        ("[score.cues.x]\nweight = 2\n", "a cue needs roots or phrases"),
        ("[score.cues.x]\nweight = 2\nroots = ['two words']\n", "is not one word"),
        ("[score.cues.x]\nroots = ['a1']\nweight = true\n", "weight must be a whole number"),
        ("[score]\ncolour = 1\n", "score.colour is unknown"),
    ],
)
def test_a_bad_score_table_is_a_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(TriageRulesError, match=expected):
        load_rule_set(_write(tmp_path, text))


def test_a_root_phrase_matches_every_form_of_its_root_word() -> None:
    rules = parse_rules(
        {
            "score": {
                "threshold": 3,
                "needs_any": ["self_harm"],
                "cues": {"self_harm": {"weight": 3, "phrases": ["~tabrak diri"]}},
            }
        }
    )
    for text in ("pengen nabrakin diri ke truk", "mau menabrakkan diri", "tabrakin diri aja"):
        assert classify(text, (), rules).zone is Zone.RED, text
    assert classify("diri sy ditabrak motor", (), rules).zone is Zone.GREEN  # order counts
    with pytest.raises(TriageRulesError, match="each part is a word or ~word"):
        parse_rules({"score": {"cues": {"x": {"weight": 1, "phrases": ["~tabrak ... diri"]}}}})


def test_a_study_or_news_frame_holds_back_red_rules_even_with_saya() -> None:
    # "sy" would lift the general-question guard; an activity frame holds whoever writes.
    assert zone("sy lagi riset soal trauma korban kekerasan seksual, bisa minta data?") is not (
        Zone.RED
    )
    assert zone("sy guru BK, mau bikin penyuluhan soal pencegahan bunuh diri") is not Zone.RED
    # who the writer is is no frame: a student in danger is red
    assert zone("sy mahasiswi, tadi dipukul pacar sy di kos") is Zone.RED


def test_a_very_long_run_of_letters_is_not_taken_apart() -> None:
    assert candidate_roots("menge" * 20) == frozenset({"menge" * 20})


def test_an_offence_named_weighs_less_than_the_act_told() -> None:
    assert is_offence_noun("penganiayaan") and is_offence_noun("penculikan")
    assert not is_offence_noun("dianiaya") and not is_offence_noun("pukulan")
    told, _ = danger_score("adik sy dianiaya", RULES)
    named, _ = danger_score("adik sy kasus penganiayaan", RULES)
    assert named < told
    assert SCORE_RULE not in classify("adik sy divonis kasus penganiayaan", (), RULES).rules


def test_an_accident_or_a_legal_threat_is_no_danger_for_the_score() -> None:
    assert SCORE_RULE not in classify("bapak sy kecelakaan motor sampe patah kaki", (), RULES).rules
    assert SCORE_RULE not in classify("sy diancam diputus kontrak kalau hamil", (), RULES).rules
    assert SCORE_RULE in classify("sy diancam mau dibacok kalau pulang", (), RULES).rules


def test_kinds_of_harm_after_the_heaviest_add_little(tmp_path: Path) -> None:
    # violence 4 + harm sign (1, not 3) + person 1 - past 4 = 2: a bruise last week is a case
    text = "anak sy dipukul sampe lebam minggu lalu"
    total, cues = danger_score(text, RULES)
    assert cues[:2] == ("violence", "harm_sign") and "past" in cues
    assert total < RULES.score.threshold  # type: ignore[union-attr]
    full = load_rule_set(_write(tmp_path, "[score]\nextra_harm_weight = 3\n"))
    assert danger_score(text, full)[0] == total + 2


# ------------------------------------------- third pass: classes read from holdout_b's misses


@pytest.mark.parametrize(
    "text",
    [
        # a farewell with no word of death: won't bother anyone again, won't wake up
        "makasih banyak ya kak, sy ga bakal gangguin kalian lagi",
        "tidurlah, sy udh ga pengen bangun lagi besok",
        # affairs put in order: belongings given away, passwords written down
        "motor sm hp udh sy kasih ke temen2, password email sy taruh di laci buat adik",
        # regional: Sundanese "to kill", a Sundanese machete, Minang "taken by people unknown"
        "salaki kuring rek maehan kuring",
        "salaki kuring mawa bedog ka imah",
        "apak ambo dibao urang indak dikenal, kini indak tau di ma",
        # someone taken off in a car and now unreachable
        "temen sy dibawa cowok2 ke mobil, skrg ga bisa ditelpon",
        # a child put to work by force, picked up tomorrow
        "om sy mau ambil paksa ponakan sy buat dipekerjakan di kapal",
        # a deadline tonight: a debt collector coming with others, a video out unless paid
        "debt collector bilang nanti malam dia dateng ke rumah bawa temen2nya",
        "kalau ga transfer 5 juta malam ini video sy disebar",
        # goodbyes and things handed on, in a few more forms
        "saya sudah tulis surat untuk anak2, semua sudah saya siapkan",
        "mulai besok aku ga bakal ada lagi buat kalian",
        "I gave my cat away and wrote my passwords down for my brother, thank you for everything",
        # an elderly relative pinched and ear-pulled, an arm gone blue
        "nenek sy sering dijewer pengasuhnya, tadi sy liat tangannya biru",
        # the means made ready, said in passing inside a debt question
        "obat2 udh sy siapin di laci, cuma mau mastiin utang sy ga diwarisin ke anak",
        # a threat the writer will never see the children again
        "suami bilang kalau sy berani cerai, anak2 ga bakal sy liat lagi selamanya",
        # goodbyes: don't look for me (Javanese), if I don't answer tomorrow, savings handed on
        "Aku wis nulis layang kanggo ibuk, sesuk wis ora usah nggoleki aku",
        "kalo besok sy ga bales, tolong kabarin ibu sy ya",
        "semua tabungan udah sy transfer ke rekening adik, hp mau sy reset",
        # someone who knows where the writer is, passing again and again
        "dia tau sy di sini, tadi lewat dua kali depan rumah",
        # searched for, watched, threatened on release, a child taken for a debt, held abroad
        "orang suruhan rentenir nanyain alamat sy ke warung sebelah tadi sore",
        "ada 2 motor berhenti depan rumah, ngeliatin terus, sy sendirian",
        "bapaknya anak2 keluar penjara minggu ini, dia pernah bilang mau balas",
        "lintah darat itu bilang kalau besok ga lunas, anak sy dibawa",
        "bos sy bilang jangan pulang ke Indonesia sebelum utang lunas, paspor dia pegang",
        # more voices: English abroad, a domestic worker kept in, Malay and Javanese goodbyes
        "my sister in Saudi says her employer burns her with an iron, she can't call often",
        "Bu, sy ART, majikan ga ngizinin sy keluar rumah udah 8 bulan, gaji ga dikasih",
        "awak dah tak larat, esok awak nak pergi jauh, jangan cari awak",
        "Mbak, kancaku sekelas ngirim status 'sesuk aku wis ra ono', wis ra iso ditelpon",
    ],
)
def test_danger_in_classes_the_lexicons_lacked_is_red(text: str) -> None:
    assert zone(text) is Zone.RED


def test_a_past_frame_yields_to_danger_still_to_come() -> None:
    over, cues = danger_score("bulan lalu mantan sy mukul sy", RULES)
    coming, coming_cues = danger_score("bulan lalu mantan sy mukul sy, besok dia mau datang", RULES)
    assert "past" in cues and "past" not in coming_cues and "soon" in coming_cues
    assert over < RULES.score.threshold <= coming  # type: ignore[union-attr]


def test_a_farewell_is_not_taken_back_by_thanks_for_the_past() -> None:
    # "pernah" is a past frame; here it thanks for old help, the goodbye is today's
    total, cues = danger_score("makasih udah pernah bantu, sy ga akan ganggu lagi", RULES)
    assert "farewell" in cues and "past" not in cues
    assert total >= RULES.score.threshold  # type: ignore[union-attr]


def test_a_study_frame_yields_when_the_writer_is_the_victim() -> None:
    study = "sy nyusun makalah soal korban pelecehan di kampus"
    victim = "sy jadi korban pelecehan dosen pembimbing skripsi, dia nyuruh sy dateng malam ini"
    assert zone(study) is not Zone.RED
    assert "frame" not in danger_score(victim, RULES)[1]
    assert zone(victim) is Zone.RED
    # a wish to die said in the first person outweighs a study or poster frame around it
    assert zone("aku pengen mati aja, skripsi ga kelar2") is Zone.RED
    assert zone("sy mau bunuh diri, poster sy udah sy sobek semua") is Zone.RED
    assert zone("sy mau bikin poster soal tanda2 orang yg pamit sebelum bunuh diri") is not Zone.RED


@pytest.mark.parametrize(
    "text",
    [
        "maaf ganggu lagi kak, mau tanya jam buka kantor",  # an apology, not a goodbye
        "dulu sy pernah dipukul mantan, skrg udah cerai dan aman, bisa lapor?",  # over, safe
        "bojoku mbiyen main tangan, saiki wis pisah omah, aku pengin pegatan",  # Javanese: over
        "tanah warisan dijual kakak tanpa izin adik2, bisa dibatalkan?",  # land, not a child
        "sy kecelakaan kerja, tangan patah, pabrik ga mau bayar pengobatan",  # treatment
        "minta nomor hotline pengaduan kekerasan buat papan pengumuman",  # a notice board
        "kalau orang diculik, pasal berapa? buat podcast kami",  # a podcast frame
        "sy tidak digaji 3 bulan sama bos, bisa lapor ke mana?",  # unpaid, not held
        "sy lupa password email, bisa kirim dokumen lewat WA?",  # a password forgotten
        "barang itu tidak bakal ada lagi di toko",  # "no more" of a thing, not of the writer
        "sy mau bikin surat untuk anak sy ke sekolah",  # a letter, not a last one
        "sy udah siapin obat buat ibu yg sakit",  # medicine for someone ill
        "mobilnya biru, platnya B, itu mobil yg nabrak pager sy",  # a blue car, not a bruise
        "dokumen udah sy kasih ke temen, nanti dia anter",  # handing on papers
        "kalau sy ga bales somasi, apa akibatnya?",  # an unanswered letter, not a goodbye
        "kalau besok saya tidak bisa datang, sidang ditunda ga?",  # a hearing missed
        "tetangga sy sering lewat depan rumah bawa anjing, ganggu",  # a neighbour passing
        "tau saya di mana kantor LBH? sy mau datang",  # asking the way
        "sy mau balas surat somasi dari developer, gimana?",  # answering a letter
        "kurir nanyain alamat sy ke tetangga buat kirim paket",  # a delivery
        "adik sy keluar penjara minggu depan, bisa kerja lagi ga?",  # a release, no threat
        "anak sy dapat PR tentang perdagangan orang, contoh kasusnya apa?",  # homework
        "tetangga bakar sampah tiap malam, asapnya masuk rumah sy, bisa dilaporin?",  # smoke
        "my phone is broken so I can't call, can I email?",  # a broken phone
        "pemilik kos ga ngizinin sy keluar malam di atas jam 10, sah ga?",  # a curfew
    ],
)
def test_past_safe_and_look_alikes_stay_below_red(text: str) -> None:
    assert zone(text) is not Zone.RED


# ------------------------------------------ fourth pass: classes read from holdout_c's misses


@pytest.mark.parametrize(
    "text",
    [
        # English threats and weapons, an attacker drinking
        "my stepfather is going to shoot us, he has a gun and he's drunk",
        "Boyfriend threatened to stab me tonight when I get back to the kos",
        "He punched me and I'm bleeding, he's still in the house",
        # Javanese krama with the passive prefix written apart, Sundanese blows and abduction
        "Nyuwun tulung, bapak kulo dipun gebugi kaliyan tiyang mendem sakmenika",
        "Ibu kulo dipun kunci wonten kamar, mboten dipun paringi dahar",
        "Abdi sieun, salaki ditajong terus ku lanceukna ayeuna",
        "adi abdi dicandak ku jalmi teu dikenal tadi wengi, teu aya kabar",
        "dia dibawa pria tanpa seragam, tidak ada surat, sekarang tidak ada kabar",
        # a goodbye said as a long sleep
        "malam ini aku mau tidur yang panjang, makasih ya semuanya",
        "kayaknya aku mau tidur lama banget abis ini, jangan bangunin",
        # belongings given away and debts settled
        "I've given away my books and my bike, paid off all my debts, I just feel done",
        "koleksi buku udah kubagiin ke temen2, utang juga udah lunas semua, biar bersih",
        # an overdose being taken
        "tadi aku udah minum semua pil tidur yang ada, sekarang ngantuk banget",
        "udh sy telan setengah strip obat, sisanya nanti",
        "I took half of my pills already, the rest are on the table",
        # someone at the door or gate now, whatever happened before
        "mantan sy berdiri di depan rumah dari tadi, teriak buka pintu, sy berdua sama anak",
        "he's outside my apartment right now and won't leave, he hit me last year",
        "Ada cowok nunggu di depan kos aku dari sore, dia yg dulu pernah nguntit aku",
        # a child's abuser, or a stranger from a game, setting a meeting
        "orang yg ngechat anak sy di game bilang besok mau ketemu di sekolah",
        "sy guru, pelakunya mau ketemu lagi sama anak itu besok sepulang sekolah",
        # a second batch in other words: Sundanese locked in and not fed, krama "dipun paringi"
        "Indung abdi dikonci di kamar ku lanceuk, teu dipasihan tuang tilu dinten",
        "Pak, simbah dipun kurung wonten kamar kaliyan putranipun, mboten dipun paringi maem",
        "mau bobo yang lama aja kayaknya, capek",
        "laptop udah kukasih ke adek, motor ke sepupu, utang2 udah kulunasin semua",
        "just gave my dog to the neighbour and cleared all my debts. I'm done.",
        "swallowed the whole bottle of paracetamol 10 min ago",
        "mantan suami nunggu di depan gerbang sekolah anak dari pagi, padahal dilarang mendekat",
        "murid sy cerita ada orang dr game online yg mau ketemu dia sabtu ini",
    ],
)
def test_danger_in_classes_holdout_c_showed_missing_is_red(text: str) -> None:
    assert zone(text) is Zone.RED


@pytest.mark.parametrize(
    "text",
    [
        # study, teaching and general frames around the new cues
        "Untuk bahan diskusi kelompok, apa unsur-unsur penculikan anak?",
        "Is it a crime to threaten to kill someone online? asking for a class assignment",
        "What is the penalty for threatening to kill someone in Indonesia?",
        "Kalau orang minum semua obat sekaligus lalu meninggal, asuransi jiwa cair ga? buat tugas",
        "Saya guru, mau bikin materi tentang pelaku grooming yang ngajak ketemu anak lewat game",
        "Kalau polisi tanpa seragam menangkap orang, sah ga secara hukum?",
        # look-alikes: a parent's visit, a gift, debts paid, a legal threat, a locked house
        "saya mau ketemu anak saya besok setelah putusan hak asuh, boleh?",
        "I gave my car to my son, do we need to change the registration?",
        "motor sudah kukasih ke adik, tapi BPKB masih atas nama saya",
        "saya sudah lunasi semua utang ke bank, kenapa sertifikat belum dikembalikan?",
        "the landlord threatened to sue me for the deposit",
        "he said it will hurt my credit score if I don't pay",
        "Mbah kulo sampun seda, griya dipun kunci kaliyan pakde, kados pundi warisanipun?",
        "tetangga parkir mobil depan pagar rumah saya tiap hari, bisa dilaporkan?",
        "Tetangga berdiri di depan rumah saya marah2 soal batas tanah kemarin, bisa dilaporkan?",
        "suami ngancam ambil anak kalau kita pisah, apa dia bisa dapat hak asuh?",
        "ibu saya rutin cuci darah, BPJS menolak klaim, bisa digugat?",
        "saya dipaksa resign sama HRD kemarin, pesangon gimana?",
        "sudah lapor polisi 2 bulan tapi laporan saya belum ada kabar",
        "bolehkah minum obat maag dan antibiotik sekaligus?",
        "I want to give away my old car to a charity, do I need a notary?",
        "Kalau pasien overdosis obat di rumah sakit, keluarga bisa gugat dokter?",
        "Debt collector datang ke rumah kemarin, menunggu di depan rumah 2 jam, legal ga?",
        "Anak saya mau ketemu ayahnya besok, mantan minta ketemuan di mall, boleh saya larang?",
        "Utang saya sudah kulunasin semua ke koperasi, tapi BPKB belum dibalikin",
    ],
)
def test_frames_and_look_alikes_of_the_fourth_pass_stay_below_red(text: str) -> None:
    assert zone(text) is not Zone.RED


def test_a_krama_split_passive_prefix_is_read_as_one_word() -> None:
    reading = read("mbah dipun kunci wonten njawi", RULES.words)
    assert "dikunci" in reading.text.split(" | ")[1].split()
    assert "dipun kunci" in reading.text  # the typed form keeps what was written
    # the word after it is read as a chat word first: "dipun paringi" is "dikasih"
    assert "tidak dikasih makan" in read("mboten dipun paringi dahar", RULES.words).text
    # the whole reading: restraint told in krama is a kind of harm for the score
    assert "restraint" in danger_score("mbah kulo dipun kunci wonten njawi", RULES)[1]


def test_someone_at_the_door_now_outweighs_an_old_story() -> None:
    text = "mantan sy yg dulu pernah dilaporkan berdiri di depan pagar, bilang buka pintunya"
    total, cues = danger_score(text, RULES)
    assert "at_door" in cues and "past" not in cues
    assert total >= RULES.score.threshold  # type: ignore[union-attr]


def test_a_gift_alone_is_no_danger_but_beside_debts_settled_it_is() -> None:
    # a gift weighs, but is no kind of harm: the score alone cannot make it red
    gift = "I gave my guitar to my cousin"
    both = "I gave my guitar to my cousin and paid back everyone"
    assert "giving_away" in danger_score(gift, RULES)[1]
    assert zone(gift) is not Zone.RED
    total, cues = danger_score(both, RULES)
    assert "settling" in cues and total >= RULES.score.threshold  # type: ignore[union-attr]
    assert zone(both) is Zone.RED


def test_the_writer_as_actor_prefix_ku_is_peeled() -> None:
    assert "pukul" in candidate_roots("kupukul")
    assert "lunas" in candidate_roots("kulunasin")


# ------------------------------------------------------------------ the fifth pass (classes)


@pytest.mark.parametrize(
    "text",
    [
        # a word typed without its vowels is read as the rules' word it keeps the letters of
        "tlng bu sy dipkl sm suami skrg dia mash dirmh",
        "ank sy diculk org ga dikenal pas plg sklh tadi siang",
        "tlg cpt bls",
        # regional spellings: Madurese e- and o for u, Minang endings, Sundanese -ar-
        "Tolong, lake' engko' ngamok pole, engko' epokol, sateya engko' e lowar roma",
        "Uda, ambo dipukua dek laki ambo, kini inyo manunggu di lua rumah",
        "Teh, abdi sieun, salaki abdi nuju mabok, tadi abdi ditarajang",
        "tiang kajagur ping kuda, jani ia ngalih tiang ngaba blakas",
        # a short line that someone is here or back
        "dia dtg lg",
        "dia udh di dpn rmh",
        # someone stationed outside, told calmly
        "mau tanya jadwal. mantan sy dari tadi duduk di motor di seberang kos sy, "
        "sy blm berani keluar",
        # a long rest, letters to everyone, poison bought and children handed over
        "makasih bu. berkas sy titip di kantor. sy mau istirahat yang panjang. tidak perlu dibalas",
        "honestly i'm done. i've written letters to everyone",
        "sy udh beli obat nyamuk cair 2 botol, anak2 sudah saya titipkan ke ibu",
        # a beating said as a lesson; an address spread with "otw"
        "suami sy suka ngasih pelajaran ke sy, semalam sampai ga bisa jalan",
        "alamat rumahku disebar di grup, ada yg komen otw malem ini bawa temen2",
        # a child taken abroad now; a child recruited through a broker, leaving tonight
        "mantan barusan ambil anak kami dari sekolah, skrg di bandara, sy tidak pernah kasih izin",
        "keponakan sy 15 th diajak kerja di malaysia sama calo, berangkat malam ini",
        # not let out, a padlock from outside
        "sy udh 2 hari ga dikasih kluar kamar sm mertua",
        "ibu sy ditinggal tanpa makanan 3 hari, pintunya digembok dari luar",
    ],
)
def test_fifth_pass_classes_are_red(text: str) -> None:
    assert zone(text) is Zone.RED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "ga pernah mukul": never hit, and "pernah" after a negation is no past frame
        (
            "Suami sy tiap hari ngatain sy bodoh, ga pernah mukul sih. Itu bisa jadi alasan cerai?",
            Zone.YELLOW,
        ),
        # acronyms typed in capitals are not words without vowels ("JHT" is not "jahit")
        ("cara klaim JHT BPJS TK lewat JMO gmn?", Zone.GREEN),
        # a diploma held for money, a contract clause that binds, a house locked by an heir
        (
            "Ijazah saya ditahan perusahaan lama, mereka minta uang tebusan 2 juta. Itu boleh?",
            Zone.YELLOW,
        ),
        (
            "Kontrak kerja sy ada klausul ga boleh kerja di perusahaan sejenis. Itu mengikat ga?",
            Zone.YELLOW,
        ),
        (
            "Bapak saya meninggal, kakak ngunci rumah warisan dan ga mau bagi. Saya harus gimana?",
            Zone.YELLOW,
        ),
        # released already; a death already reported as suicide; an accident settled
        (
            "Kemarin sy sempat diamankan waktu demo, udah dilepas malamnya. HP sy masih ditahan, "
            "gimana ambilnya?",
            Zone.YELLOW,
        ),
        (
            "Kakak sy meninggal di tahanan tahun lalu, katanya bunuh diri tapi badannya lebam. "
            "Kami mau tuntut, bisa?",
            Zone.YELLOW,
        ),
        (
            "Kemarin sy nyerempet orang pake motor, dia luka lecet, udah damai di tempat. Wajib "
            "sy bayar?",
            Zone.YELLOW,
        ),
        # a quiz, fiction, history, a documentary
        (
            "Dosen sy kasih kuis: apakah asuransi jiwa membayar klaim kalau tertanggung "
            "bunuh diri?",
            Zone.GREEN,
        ),
        ("Aku lagi nulis cerpen, tokohnya disekap di gudang. Realistis ga?", Zone.GREEN),
        ("Mbah dulu cerita waktu zaman Jepang banyak orang diculik, arsipnya di mana?", Zone.GREEN),
        (
            "Lagi nonton dokumenter soal penculikan anak tahun 90an, sekarang masih sering ga?",
            Zone.GREEN,
        ),
        # a debt collector coming to the office; money run off with; "koperasi" is no extortion
        ("Debt collector pinjol bilang mau datang ke kantor saya, saya malu. Gimana?", Zone.YELLOW),
        (
            "Saya ditipu arisan online, uang 12 juta dibawa kabur admin. Bisa dilaporkan?",
            Zone.YELLOW,
        ),
        ("Koperasi tempat saya nabung tutup, uang saya 40 juta. Bisa saya tuntut?", Zone.YELLOW),
        # a short line about an appointment is no alarm
        ("dia datang ke kantor jam berapa?", Zone.GREEN),
    ],
)
def test_fifth_pass_look_alikes_are_not_red(text: str, expected: Zone) -> None:
    assert zone(text) is expected


def test_a_word_typed_without_vowels_is_read_only_when_one_word_fits() -> None:
    reading = read("sy dipkl", RULES.words, RULES.restorable)
    assert "dipukul" in reading.text
    # "clk" could be colek or culik: left as typed
    assert "colek" not in read("dia clk", RULES.words, RULES.restorable).text
    assert "culik" not in read("dia clk", RULES.words, RULES.restorable).text


def test_regional_spellings_read_back_to_the_indonesian_root() -> None:
    assert "pukul" in candidate_roots("epokol")  # Madurese e- and o for u
    assert "pukul" in candidate_roots("dipukua")  # Minang -ua
    assert "takut" in candidate_roots("takuik")  # Minang -uik
    assert "tajang" in candidate_roots("ditarajang")  # Sundanese -ar-
    # read only after the affixes: "koperasi" is not ku-peras-i, "narik" not "arit"
    assert "peras" not in candidate_roots("koperasi")
    assert "arit" not in candidate_roots("narik")


# ------------------------------------------------------------------ triage8 (from CV misses)


@pytest.mark.parametrize(
    "text",
    [
        # held and kept from calling anyone: nobody knows where the person is
        "sy di ruang belakang pabrik dr siang, mandornya ga ngizinin sy telpon siapa2",
        "kami di pos ronda dari sore, mereka tidak boleh telepon keluarga katanya",
        "they took me to a back room at the factory and won't let me call my wife",
        # going away and not coming back, as a plan
        "sy udah capek, malam ini mau pergi ke rel dan gak balik",
        "sesok aku lungo, ora bakal bali, titip kucingku yo",
        "I'm not coming back after tonight, please tell my mom I'm sorry",
    ],
)
def test_held_without_a_call_and_leaving_for_good_are_red(text: str) -> None:
    assert zone(text) is Zone.RED


@pytest.mark.parametrize(
    "text",
    [
        # a certificate that never came back in the buyer's name, money lent and not returned
        "2 tahun sertifikat gak balik nama, notarisnya bilang proses terus",
        "uang saya dipinjam teman dan tidak balik sampai sekarang, bisa dilaporkan?",
        # a court order that forbids the ex to call is no one held
        "mantan tidak boleh menghubungi saya menurut putusan, tapi dia tetap chat",
    ],
)
def test_look_alikes_of_the_triage8_phrases_are_not_red(text: str) -> None:
    assert zone(text) is not Zone.RED
