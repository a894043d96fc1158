//! Uses of the public API that must not compile, checked with `trybuild`:
//! each case in `tests/ui/` is a program that a sound API rejects, with the
//! compiler's message checked in beside it.

#[test]
fn unsound_uses_do_not_compile() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
