"""Template files are checked when loaded: a bad one names its file and template, and nothing
that loads can fail or blow up later when a case opens."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.suggest import TemplateError, load_templates

HEAD = 'language = "en"\nsignature = "— {moderator}"\n'


def block(text: str) -> str:
    return f'[[template]]\nid = "t1"\nkind = "question"\ntext = "{text}"\n'


@pytest.mark.parametrize(
    "text",
    ["Hi {member:x}", "Hi {member:>999999999}", "Hi {member!r}", "Hi {member:{community}}"],
)
def test_a_format_spec_is_refused_at_load_naming_file_and_template(
    tmp_path: Path, text: str
) -> None:
    (tmp_path / "en.toml").write_text(HEAD + block(text), encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    message = str(caught.value)
    assert message.startswith("en.toml: template 't1'")
    assert "{member}" in message  # the fix: write it plainly


def test_a_format_spec_in_the_signature_is_refused(tmp_path: Path) -> None:
    content = 'language = "en"\nsignature = "— {moderator:x}"\n' + block("Hi {member}")
    (tmp_path / "en.toml").write_text(content, encoding="utf-8")
    with pytest.raises(TemplateError, match=r"^en\.toml: signature"):
        load_templates(tmp_path)


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('language = "en"\ntemplate = [1]\n', "template #1"),
        ('language = "en"\ntemplate = "x"\n', "[[template]] blocks"),
        ('language = "en"\nsignature = 3\n', "signature must be a string"),
        (
            'language = "en"\n[[template]]\nid = "t"\nkind = "question"\ntext = "a"\n'
            "keywords = [1]\n",
            "keywords",
        ),
        (
            'language = "en"\n[[template]]\nid = "t"\nkind = ["question"]\ntext = "a"\n',
            "needs id, kind",
        ),
        ('language = "en"\n[[template]]\nid = "t"\nkind = "question"\ntext = 3\n', "needs id"),
    ],
)
def test_odd_shapes_are_template_errors_naming_the_file(
    tmp_path: Path, content: str, says: str
) -> None:
    (tmp_path / "en.toml").write_text(content, encoding="utf-8")
    with pytest.raises(TemplateError) as caught:
        load_templates(tmp_path)
    assert str(caught.value).startswith("en.toml")
    assert says in str(caught.value)


def test_a_file_that_is_not_utf8_is_a_template_error(tmp_path: Path) -> None:
    (tmp_path / "en.toml").write_bytes(b'language = "en"\n# caf\xe9\n')
    with pytest.raises(TemplateError, match=r"en\.toml: not UTF-8"):
        load_templates(tmp_path)
