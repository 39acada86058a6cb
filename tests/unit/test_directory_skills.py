from pathlib import Path

import pytest

from callflow.directory import DirectoryError, parse_directory

BASE = """
[skills]
billing = "Invoices"
spanish = "Speaks Spanish"

[[queues]]
name = "support"
[[queues]]
name = "sales"
"""

AGENT = '[[agents]]\nname = "ann"\nendpoint = "PJSIP/ann"\n'


def test_skills_levels_requirements_and_steps_load(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text(
        BASE.replace('name = "support"', 'name = "support"\nrequirement = "billing >= 2"\n'
                     'escalation = [{ after = 30, lower = 1 }, { after = 60, queues = ["sales"] }]')
        + AGENT + "skills = { billing = 4, spanish = 1 }\n"
    )  # fmt: skip
    directory = parse_directory(path)
    assert directory.agents[0].skills == {"billing": 4, "spanish": 1}
    assert directory.queues[0].requirement == "billing >= 2"


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (AGENT + "skills = { french = 2 }\n",
         "agent 'ann' field skills: unknown skill 'french' (known: billing, spanish)"),
        (AGENT + "skills = { billing = 12 }\n",
         "agent 'ann' field skills: skill 'billing': level 12"),
        ('[[queues]]\nname = "vip"\nrequirement = "french"\n',
         "queue 'vip' field requirement: unknown skill 'french'"),
        ('[[queues]]\nname = "vip"\nrequirement = "billing =>"\n',
         "queue 'vip' field requirement: cannot read 'billing =>'"),
        ('[[queues]]\nname = "vip"\nescalation = [{ after = 5, drop = ["french"] }]\n',
         "queue 'vip' field escalation step 1: drop: unknown skill 'french'"),
        ('[[queues]]\nname = "vip"\nescalation = [{ after = 5, queues = ["nowhere"] }]\n',
         "queue 'vip' field escalation: 'nowhere' is not a queue"),
    ],
)  # fmt: skip
def test_a_bad_skill_anywhere_is_reported_with_file_entry_and_field(
    tmp_path: Path, extra: str, problem: str
) -> None:
    path = tmp_path / "directory.toml"
    path.write_text(BASE + extra)
    with pytest.raises(DirectoryError) as caught:
        parse_directory(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert problem in str(caught.value)


def test_a_skill_name_must_be_a_plain_word(tmp_path: Path) -> None:
    path = tmp_path / "directory.toml"
    path.write_text(BASE.replace("billing =", '"Bad Name" ='))
    with pytest.raises(DirectoryError, match="skills: 'Bad Name' is not a skill name"):
        parse_directory(path)
