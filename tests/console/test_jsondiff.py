"""The structural JSON diff behind "changes from the parent"."""

from __future__ import annotations

from synaptic_s3.console.jsondiff import Change, diff, json_equal, pointer_token


def test_equal_values_have_no_changes() -> None:
    state = {"a": [1, {"b": None}], "c": "x"}
    assert diff(state, {"a": [1, {"b": None}], "c": "x"}) == ([], False)


def test_added_removed_and_changed_keys() -> None:
    changes, truncated = diff({"keep": 1, "old": 2, "n": 1}, {"keep": 1, "n": 2, "new": 3})
    assert changes == [Change("removed", "/old", before=2), Change("changed", "/n", 1, 2),
                       Change("added", "/new", after=3)]
    assert not truncated


def test_arrays_compare_by_position() -> None:
    changes, _ = diff({"m": ["a", "b"]}, {"m": ["a", "c", "d"]})
    assert changes == [Change("changed", "/m/1", "b", "c"), Change("added", "/m/2", after="d")]
    shorter, _ = diff([1, 2, 3], [1])
    assert [c.path for c in shorter] == ["/1", "/2"]
    assert {c.op for c in shorter} == {"removed"}


def test_json_types_differ_even_when_python_says_equal() -> None:
    assert not json_equal(1, True)
    assert not json_equal(0, False)
    assert json_equal(1, 1.0)
    assert diff({"x": 1}, {"x": True})[0] == [Change("changed", "/x", 1, True)]


def test_type_change_of_a_subtree_is_one_change() -> None:
    assert diff({"x": {"a": 1}}, {"x": [1]})[0] == [Change("changed", "/x", {"a": 1}, [1])]


def test_paths_are_json_pointers_whatever_the_keys() -> None:
    assert pointer_token("a/b~c") == "a~1b~0c"
    changes, _ = diff({}, {"a/b": 1, "~": 2, "": 3, "<script>": 4})
    assert [c.path for c in changes] == ["/a~1b", "/~0", "/", "/<script>"]


def test_root_scalars() -> None:
    assert diff(None, {"a": 1})[0] == [Change("changed", "", None, {"a": 1})]
    assert diff("x", "x") == ([], False)


def test_limit_cuts_and_says_so() -> None:
    before = {f"k{i}": i for i in range(10)}
    after = {f"k{i}": i + 1 for i in range(10)}
    assert len(diff(before, after, limit=10)[0]) == 10
    assert not diff(before, after, limit=10)[1]
    changes, truncated = diff(before, after, limit=9)
    assert len(changes) == 9
    assert truncated
    assert diff(before, after, limit=11) == (diff(before, after, limit=10)[0], False)


def test_deep_nesting_does_not_recurse_without_bound() -> None:
    deep: object = "x"
    other: object = "y"
    for _ in range(500):
        deep, other = [deep], [other]
    changes, _ = diff(deep, other)
    assert len(changes) == 1
    assert changes[0].op == "changed"
    assert changes[0].path.count("/") == 64  # compared whole below MAX_DEPTH
