"""`lock --from conda-lock.yml` with pip pins: they are kept where the pip section still allows them."""

from __future__ import annotations

from tests.integration.test_pip_local_index import World, pins_for, world
from tests.support.condalock import PipPin, condalock_text, explicit_text

__all__ = ["world"]  # the fixture, shared

PLATFORMS = ("linux-64", "osx-64", "win-64")


def _conda_picks(world: World) -> dict[str, list]:  # type: ignore[type-arg]
    picks: dict[str, list] = {}  # type: ignore[type-arg]
    for platform in PLATFORMS:
        picks[platform] = [p for p in world.conda.packages if p.subdir in (platform, "noarch")]
    return picks


def _helper_pin(world: World, version: str) -> PipPin:
    wheel = next(w for w in world.index.wheels if (w.name, w.version) == ("helper", version))
    url = f"{world.index_server.url}/files/{wheel.file_name}"
    return PipPin("helper", version, url, world.index.sha256(wheel))


def test_fresh_lock_takes_the_newest_helper(world: World) -> None:
    """The control: without --from, helper 2.0 is chosen."""
    world.write_env(["helper"])
    result = world.lock("-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert pins_for(world.requirements(), "linux-64")["helper"][0] == "2.0"


def test_from_condalock_keeps_pip_pins(world: World) -> None:
    world.write_env(["helper"])
    pin = _helper_pin(world, "1.0")
    text = condalock_text(world.conda, "testchan", _conda_picks(world), pip={p: [pin] for p in PLATFORMS})
    (world.root / "conda-lock.yml").write_text(text)
    result = world.lock("--from", "conda-lock.yml")
    assert result.returncode == 0, result.stderr
    for platform in PLATFORMS:
        assert pins_for(world.requirements(), platform)["helper"][0] == "1.0"
        assert f"{platform}: 1 of 1 pip pins kept" in result.stdout
    assert "(100%)" in result.stdout


def test_from_explicit_file_with_pip_comment_lines(world: World) -> None:
    world.write_env(["helper"])
    pin = _helper_pin(world, "1.0")
    (world.root / "conda-linux-64.lock").write_text(
        explicit_text(world.conda, "testchan", "linux-64", _conda_picks(world)["linux-64"], [pin])
    )
    result = world.lock("--from", "conda-linux-64.lock", "-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert pins_for(world.requirements(), "linux-64")["helper"][0] == "1.0"


def test_pip_pin_the_section_no_longer_allows_moves(world: World) -> None:
    world.write_env(["helper>=2"])
    pin = _helper_pin(world, "1.0")
    text = condalock_text(world.conda, "testchan", _conda_picks(world), pip={"linux-64": [pin]})
    (world.root / "conda-lock.yml").write_text(text)
    result = world.lock("--from", "conda-lock.yml", "-p", "linux-64")
    assert result.returncode == 0, result.stderr
    assert pins_for(world.requirements(), "linux-64")["helper"][0] == "2.0"
    assert "moved helper 1.0 -> 2.0: environment.yml:10 `helper>=2` excludes it" in result.stdout


def test_written_condalock_names_each_platforms_pip_file(world: World) -> None:
    """requirements.txt pins versions; conda-lock.yml needs the one file each platform installs."""
    from lockgen.lockfiles.condalock import parse_condalock
    from tests.integration.test_pip_local_index import TAGS

    world.write_env(["helper", "native"])
    result = world.lock("--conda-lock-file", "conda-lock.yml")
    assert result.returncode == 0, result.stderr
    assert "lacks pip packages" not in result.stderr
    lock = parse_condalock((world.root / "conda-lock.yml").read_text())
    for platform in PLATFORMS:
        pip = {p.name: p for p in lock.for_platform(platform, "pip")}
        assert sorted(pip) == ["helper", "native"], platform
        native_version = "1.0" if platform == "osx-64" else "1.1"
        wheel = next(
            w for w in world.index.wheels if (w.name, w.version, w.tag) == ("native", native_version, TAGS[platform])
        )
        assert pip["native"].version == native_version
        assert pip["native"].url == f"{world.index_server.url}/files/{wheel.file_name}"
        assert pip["native"].sha256 == world.index.sha256(wheel)
        helper = next(w for w in world.index.wheels if (w.name, w.version) == ("helper", "2.0"))
        assert (pip["helper"].url, pip["helper"].sha256) == (
            f"{world.index_server.url}/files/{helper.file_name}",
            world.index.sha256(helper),
        )
    # and the file's pip pins seed a later --from
    back = world.lock("--from", "conda-lock.yml", out="locks2")
    assert back.returncode == 0, back.stderr
    assert "(100%)" in back.stdout
