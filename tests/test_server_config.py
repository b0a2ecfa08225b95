"""Server settings: one table (mlg.config.SETTINGS), read from a TOML file, the environment and flags."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import pytest

from mlg.config import SETTINGS, Config
from mlg.errors import UsageError


@pytest.fixture(autouse=True)
def no_mlg_environment(monkeypatch):
    for setting in SETTINGS:
        monkeypatch.delenv(setting.env, raising=False)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mlg.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_setting_is_a_field_and_every_field_a_setting():
    assert [s.name for s in SETTINGS] == [f.name for f in fields(Config)]
    assert all(s.env == "MLG_" + s.name.upper() or s.name == "config_file" for s in SETTINGS)


def test_defaults():
    config = Config.from_env()
    assert (config.host, config.port, config.threads) == ("127.0.0.1", 8000, 4)
    assert config.workers == (os.cpu_count() or 1)
    assert config.update_token == "" and config.service_allow == "" and config.cors_origins == ""
    assert config.max_body_bytes == 64 * 1024 * 1024


def test_the_file_then_the_environment_then_flags(tmp_path, monkeypatch):
    path = write(tmp_path, 'port = 9000\nthreads = 3\nhost = "0.0.0.0"\nupdate_token = ["a", "b"]\n')
    config = Config.from_env(config_file=path)
    assert (config.port, config.threads, config.host, config.update_token) == (9000, 3, "0.0.0.0", "a,b")
    assert Config.split(config.update_token) == ["a", "b"]
    monkeypatch.setenv("MLG_PORT", "9100")
    assert Config.from_env(config_file=path).port == 9100
    assert Config.from_env(config_file=path, port=9200).port == 9200
    monkeypatch.setenv("MLG_CONFIG", str(path))
    assert Config.from_env().threads == 3


def test_paths_in_the_file_are_relative_to_it(tmp_path):
    config = Config.from_env(
        config_file=write(tmp_path, 'store = "data/store"\nupdate_token_file = "/etc/t"\n')
    )
    assert config.store == tmp_path / "data" / "store"
    assert config.update_token_file == Path("/etc/t")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("prot = 1", "unknown setting 'prot' (did you mean 'port'?)"),
        ('port = "8000"', "port must be a whole number"),
        ("host = 1", "host must be a string"),
        ("port = [", "not valid TOML"),
        ("debug = true", "unknown setting"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path, text, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        Config.from_env(config_file=write(tmp_path, text))


def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(UsageError, match="cannot read"):
        Config.from_env(config_file=tmp_path / "absent.toml")


def test_tokens_do_not_show_in_the_config_repr():
    assert "s3cret" not in repr(Config(update_token="s3cret", read_token="s3cret"))


def test_serve_and_demo_are_commands_with_their_flags():
    from mlg.cli import cli

    serve = cli.commands["serve"]
    assert {"serve_store", "host", "port", "threads", "config_file"} <= {p.name for p in serve.params}
    demo = cli.commands["demo"]
    assert {"no_serve", "host", "port", "threads"} <= {p.name for p in demo.params}
