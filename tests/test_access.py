"""Roles: the policy, the checks in the analysis layer (whatever a page hid), and the CLI's actor."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from readiness.analysis.ingest import ingest_csv
from readiness.analysis.settings import (
    add_criterion,
    attest,
    audit_trail,
    checklist_config,
    mark_applicable,
    mark_not_applicable,
    parse_criterion,
    remove_criterion,
    set_bands,
    set_critical,
    set_historical,
    withdraw,
)
from readiness.cli import EXIT_BAD_INPUT, EXIT_NOT_ALLOWED, main
from readiness.config import ROLES_FILE_ENV, roles_policy
from readiness.core.access import (
    AccessDenied,
    Action,
    Actor,
    Role,
    RolePolicy,
    RolesConfigError,
    policy_from_mapping,
    require,
)
from readiness.errors import ConfigError
from tests.factories import baseline_csv, live_csv, table_counts

URL = "https://wiki.example.com/card"
POLICY = policy_from_mapping(
    {
        "admin": ["ana@example.com"],
        "editor": ["*@ml.example.com"],
        "viewer": ["vic@example.com"],
        "owners": {"fraud": ["olu@example.com"], "shop": ["olu@example.com"]},
    }
)
VIEWER = Actor("vic@example.com", POLICY)
EDITOR = Actor("eve@ml.example.com", POLICY)
OWNER = Actor("olu@example.com", POLICY)
ADMIN = Actor("ana@example.com", POLICY)
STRANGER = Actor("someone@gmail.com", POLICY)


# -- the policy ----------------------------------------------------------------------------


def test_each_identity_gets_the_highest_role_that_names_it():
    assert VIEWER.role("fraud") is Role.VIEWER
    assert EDITOR.role("fraud") is Role.EDITOR
    assert OWNER.role("fraud") is Role.OWNER and OWNER.role("credit") is Role.NONE
    assert ADMIN.role("credit") is Role.ADMIN
    assert STRANGER.role("fraud") is Role.NONE and not POLICY.has_role(STRANGER.name)
    assert POLICY.has_role(OWNER.name)  # an owner of one model can sign in
    assert Actor("ANA@Example.com ", POLICY).role() is Role.ADMIN  # identities compare case-blind


def test_a_domain_pattern_does_not_match_a_lookalike_domain():
    assert Actor("eve@evilml.example.com", POLICY).role() is Role.NONE
    assert Actor("ml.example.com", POLICY).role() is Role.NONE


def test_an_empty_identity_has_no_role_whatever_the_default():
    policy = policy_from_mapping({"default": "viewer", "viewer": ["*@example.com"]})
    assert not policy.has_role("  ") and Actor("", policy).role() is Role.NONE


def test_default_role_applies_to_the_unlisted_but_never_admin():
    assert Actor("x@y.z", policy_from_mapping({"default": "viewer"})).role() is Role.VIEWER
    with pytest.raises(RolesConfigError, match="default = 'admin'"):
        policy_from_mapping({"default": "admin"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"admins": ["a@b.c"]}, "unknown key"),
        ({"editor": [3]}, "editor must be a list"),
        ({"admin": "one identity with spaces"}, "not an identity"),
        ({"admin": ["two words"]}, "not an identity"),
        ({"admin": ["*"]}, "not an identity"),
        ({"admin": ["*@"]}, "not an identity"),
        ({"admin": ["*@@example.com"]}, "not an identity"),
        ({"owners": ["a@b.c"]}, "owners must be a table"),
        ({"default": "superuser"}, "not a role"),
    ],
)
def test_bad_roles_configuration_names_the_bad_part(data, message):
    with pytest.raises(RolesConfigError, match=message):
        policy_from_mapping(data)


def test_local_mode_allows_everything():
    local = Actor.local("dashboard (local mode)")
    assert local.is_local and all(local.may(action, "fraud") for action in Action)


@given(st.sampled_from(list(Role)), st.sampled_from(list(Action)))
def test_a_role_may_do_exactly_what_needs_it_or_less(role, action):
    policy = RolePolicy(default=role) if role not in (Role.ADMIN, Role.OWNER) else None
    if role is Role.ADMIN:
        policy = RolePolicy(admins=("a@b.c",))
    if role is Role.OWNER:
        policy = RolePolicy(owners={"m": ("a@b.c",)})
    assert Actor("a@b.c", policy).may(action, "m") == (role >= action.least)


def test_denial_says_who_what_which_role_and_how_to_fix():
    with pytest.raises(AccessDenied) as caught:
        require(VIEWER, Action.ATTEST, "fraud")
    text = str(caught.value)
    assert "'vic@example.com' may not attest" in text and "model 'fraud'" in text
    assert "owner role" in text and "the viewer role" in text and "Ask an admin" in text


# -- the analysis layer checks the role ------------------------------------------------------


def test_viewer_and_editor_cannot_attest_mark_or_configure_and_nothing_is_written(demo_store):
    model = demo_store.get_model("fraud")
    before = table_counts(demo_store)
    config = checklist_config(demo_store, model)
    for actor in (VIEWER, EDITOR, STRANGER):
        with pytest.raises(AccessDenied):
            attest(demo_store, model, "model_card", "Ana", URL, actor=actor)
        with pytest.raises(AccessDenied):
            withdraw(demo_store, model, "model_card", actor=actor)
        with pytest.raises(AccessDenied):
            mark_not_applicable(demo_store, model, "human_oversight", "x", actor=actor)
        with pytest.raises(AccessDenied):
            set_bands(demo_store, model, 50, 25, actor=actor)
        with pytest.raises(AccessDenied):
            set_historical(demo_store, model, True, actor=actor)
    assert table_counts(demo_store) == before and checklist_config(demo_store, model) == config


def test_viewer_cannot_set_criteria_but_an_editor_can(demo_store):
    model = demo_store.get_model("fraud")
    criterion = parse_criterion("recall >= 0.5")
    with pytest.raises(AccessDenied, match="change success criteria"):
        add_criterion(demo_store, model, criterion, actor=VIEWER)
    added = add_criterion(demo_store, model, criterion, actor=EDITOR)
    with pytest.raises(AccessDenied):
        remove_criterion(demo_store, model, added.id, actor=VIEWER)
    remove_criterion(demo_store, model, added.id, actor=EDITOR)
    who = {(e.action, e.actor) for e in audit_trail(demo_store, model)}
    assert {("criterion.add", EDITOR.name), ("criterion.remove", EDITOR.name)} <= who


def test_the_owner_attests_and_marks_but_only_an_admin_exempts_a_critical_item(demo_store):
    model = demo_store.get_model("fraud")
    attest(demo_store, model, "model_card", "Ana", URL, actor=OWNER)
    mark_not_applicable(demo_store, model, "human_oversight", "Analysts review every alert", actor=OWNER)
    mark_applicable(demo_store, model, "human_oversight", actor=OWNER)
    with pytest.raises(AccessDenied, match="critical item"):
        mark_not_applicable(demo_store, model, "criteria_met", "x", actor=OWNER)
    with pytest.raises(AccessDenied, match="critical item"):
        set_critical(demo_store, model, "criteria_met", False, actor=OWNER)
    set_critical(demo_store, model, "model_card", True, actor=OWNER)  # stricter is the owner's call
    assert "criteria_met" not in checklist_config(demo_store, model).not_applicable
    mark_not_applicable(demo_store, model, "criteria_met", "Shadow mode only", actor=ADMIN)
    assert checklist_config(demo_store, model).not_applicable["criteria_met"] == "Shadow mode only"
    actors = {e.actor for e in audit_trail(demo_store, model)}
    assert {OWNER.name, ADMIN.name} <= actors


def test_an_owner_of_one_model_is_nobody_on_another(demo_store):
    credit = demo_store.get_model("credit")
    with pytest.raises(AccessDenied, match="has no role"):
        attest(demo_store, credit, "model_card", "Ana", URL, actor=OWNER)


def test_uploads_need_an_editor_and_a_refused_upload_writes_nothing(sqlite_store):
    before = table_counts(sqlite_store)
    with pytest.raises(AccessDenied, match="upload files"):
        ingest_csv(sqlite_store, "shop", "baseline", baseline_csv(), "base.csv", actor=VIEWER)
    assert table_counts(sqlite_store) == before and sqlite_store.find_model("shop") is None
    ingest_csv(sqlite_store, "shop", "baseline", baseline_csv(), "base.csv", actor=EDITOR)
    assert [e.actor for e in audit_trail(sqlite_store, sqlite_store.get_model("shop"))][-1] == EDITOR.name


def test_judging_an_existing_model_as_historical_on_upload_is_the_owners_call(sqlite_store):
    ingest_csv(sqlite_store, "shop", "baseline", baseline_csv(), "base.csv", actor=EDITOR)
    before = table_counts(sqlite_store)
    with pytest.raises(AccessDenied, match="configure the checklist"):
        ingest_csv(sqlite_store, "shop", "live", live_csv(), "live.csv", actor=EDITOR, historical=True)
    assert table_counts(sqlite_store) == before
    ingest_csv(sqlite_store, "shop", "live", live_csv(), "live.csv", actor=EDITOR)  # no change asked: fine
    ingest_csv(
        sqlite_store,
        "shop",
        "live",
        live_csv(seed=5, id_prefix="s"),
        "live2.csv",
        actor=OWNER,
        historical=True,
    )
    assert checklist_config(sqlite_store, sqlite_store.get_model("shop")).historical


# -- configuration and the CLI ------------------------------------------------------------------


ROLES_TOML = """
[roles]
admin = ["ana@example.com"]
editor = ["eve@example.com"]
viewer = ["vic@example.com"]

[roles.owners]
fraud = ["olu@example.com"]
"""


@pytest.fixture
def roles_file(tmp_path, monkeypatch):
    path = tmp_path / "roles.toml"
    path.write_text(ROLES_TOML)
    monkeypatch.setenv(ROLES_FILE_ENV, str(path))
    return path


def test_roles_file_is_read_and_its_problems_are_config_errors(roles_file, monkeypatch, tmp_path):
    policy = roles_policy({"admin": ["ignored@example.com"]})  # the file wins over secrets
    assert policy is not None and policy.admins == ("ana@example.com",)
    monkeypatch.setenv(ROLES_FILE_ENV, str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="cannot be read"):
        roles_policy()
    (tmp_path / "bad.toml").write_text("[roles\nadmin=")
    monkeypatch.setenv(ROLES_FILE_ENV, str(tmp_path / "bad.toml"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        roles_policy()
    (tmp_path / "empty.toml").write_text("title = 'x'\n")
    monkeypatch.setenv(ROLES_FILE_ENV, str(tmp_path / "empty.toml"))
    with pytest.raises(ConfigError, match="no \\[roles\\] table"):
        roles_policy()
    monkeypatch.delenv(ROLES_FILE_ENV)
    assert roles_policy() is None and roles_policy({"viewer": ["v@x.y"]}) is not None


def url_of(store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def test_the_gate_cannot_be_flipped_from_the_cli_without_the_admin_role(
    demo_store, roles_file, monkeypatch, capsys
):
    db = url_of(demo_store)
    gate = ["--database", db, "gate", "--model", "fraud"]
    assert main(gate) == 1
    for who in ("eve@example.com", "vic@example.com", "olu@example.com"):
        monkeypatch.setenv("READINESS_ACTOR", who)
        capsys.readouterr()
        na = [
            "--database",
            db,
            "checklist",
            "--model",
            "fraud",
            "not-applicable",
            "criteria_met",
            "--reason",
            "x",
        ]
        assert main(na) == EXIT_NOT_ALLOWED
        assert "not allowed" in capsys.readouterr().err
    monkeypatch.setenv("READINESS_ACTOR", "olu@example.com")  # the owner: bands, but never below the floor
    assert (
        main(["--database", db, "checklist", "--model", "fraud", "configure", "--bands", "0,0"])
        == EXIT_BAD_INPUT
    )
    assert main(gate) == 1
    assert "criteria_met" not in checklist_config(demo_store, demo_store.get_model("fraud")).not_applicable


def test_with_roles_the_cli_refuses_an_actor_named_on_the_command_line(
    demo_store, roles_file, monkeypatch, capsys
):
    monkeypatch.setenv("READINESS_ACTOR", "vic@example.com")
    args = ["--database", url_of(demo_store), "checklist", "--model", "fraud", "attest", "model_card"]
    args += ["--owner", "Ana", "--evidence", URL, "--actor", "ana@example.com"]
    assert main(args) == EXIT_NOT_ALLOWED
    assert "--actor 'ana@example.com' is refused" in capsys.readouterr().err
    monkeypatch.setenv("READINESS_ACTOR", "olu@example.com")
    assert main(args[:-2]) == 0
    assert audit_trail(demo_store, demo_store.get_model("fraud"))[0].actor == "olu@example.com"


def test_a_broken_roles_file_stops_write_commands_with_a_clear_line(demo_store, roles_file, capsys):
    roles_file.write_text("[roles]\nadmins = ['a@b.c']\n")
    args = ["--database", url_of(demo_store), "criteria", "--model", "fraud", "add", "recall >= 0.5"]
    assert main(args) == EXIT_BAD_INPUT
    assert "unknown key(s) 'admins'" in capsys.readouterr().err


ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.sampled_from(["admin", "editor", "viewer", "owners", "default", "x"]), ANY_VALUE))
def test_any_roles_table_gives_a_policy_or_a_roles_config_error(data):
    """A hostile or mistyped roles table never crashes the app: it is a policy or one clear error."""
    try:
        policy = policy_from_mapping(data)
    except RolesConfigError as exc:
        assert str(exc).startswith("Roles configuration: ")
    else:
        assert Actor("someone@example.com", policy).role("fraud") in set(Role)
