"""One catalogue: what `check` accepts is exactly what script generation may offer."""
from __future__ import annotations

from support import write
from compiler import catalogue
from compiler.load import load_project

ROOT_TSX = """\
import {Composition} from 'remotion';
export const RemotionRoot = () => (<>
  <Composition id="TitleCard" component={TitleCard} />
  <Composition id="kinetic-list" component={KineticList} />
  <Composition
    id="lower_third" component={LowerThird} />
  <Composition id='标题卡' component={Cjk} />
</>);
"""


def test_composition_ids_follow_remotions_rule():
    # Remotion's validateCompositionId: a-z, A-Z, 0-9, CJK and '-'; an underscore is refused at render time
    for ok in ("TitleCard", "kinetic-list", "A1", "标题卡"):
        assert catalogue.is_composition_id(ok)
    for bad in ("lower_third", "has space", "dot.id", ""):
        assert not catalogue.is_composition_id(bad)


def test_check_and_the_llm_see_the_same_compositions(mini):
    write(mini / "recipes/remotion/src/Root.tsx", ROOT_TSX)
    write(mini / "recipes/remotion/src/TitleCard.tsx", "type TitleCardProps = BaseProps & {title: string; sub?: string};\n")
    offered = set(catalogue.remotion_props(mini))
    assert offered == set(catalogue.remotion_compositions(mini)) == {"TitleCard", "kinetic-list", "标题卡"}
    assert catalogue.remotion_props(mini)["TitleCard"] == {"title": {"type": "string", "required": True},
                                                           "sub": {"type": "string", "required": False}}
    for i, cid in enumerate(["TitleCard", "kinetic-list", "lower_third"]):
        write(mini / f"videos/test/r{i}.yaml", f"format: tiny\nscenes:\n  - narration: Hi.\n"
                                               f"    visual: {{kind: remotion, composition: {cid}}}\n")
    project = load_project(mini)
    assert {"test/r0", "test/r1"} <= set(project.videos)
    assert "unknown Remotion composition 'lower_third'" in project.errors["test/r2"].render()


def test_manim_templates_and_prompts_are_listed_once(tmp_path):
    write(tmp_path / "recipes/manim/b.py", "")
    write(tmp_path / "recipes/manim/a.py", "")
    write(tmp_path / "recipes/manim/_helpers.py", "")
    assert catalogue.manim_templates(tmp_path) == ["a", "b"]
    assert [p.name for p in catalogue.manim_template_files(tmp_path)] == ["a.py", "b.py"]
    assert catalogue.manim_templates(tmp_path / "nowhere") == []
    # the prompt names come from the script.llm renderer's declared inputs
    assert catalogue.prompt_names() == ("system", "create", "process", "repair", "shorten", "continue")
    assert catalogue.prompt_path("system") == "recipes/prompts/system.md.j2"
