//! Showing a cell's value without evcxr's failing first compile.
//!
//! evcxr shows a cell's final expression by compiling `(value).evcxr_display();` first, and
//! only when that fails (the value's type has no such method: `1+1`, a string, a vector)
//! compiling the cell again with `{:?}`. The failed compile is evcxr's "Fallback" phase:
//! about 0.09 s of a `1+1` on a quiet machine, a third of it.
//!
//! The kernel therefore defines, once evcxr is idle, a trait that gives every `Debug` type an
//! `evcxr_display` printing what the fallback would print (the `{:?}` text as `text/plain`).
//! Its method takes `&mut self`, so Rust's method lookup reaches it last: a type's own
//! `evcxr_display`, inherent or from a trait in scope taking `self` or `&self`, is found first
//! and keeps its rich display. A value it cannot borrow mutably (a variable declared without
//! `mut`) fails to compile and gets evcxr's fallback, as without the trait.
//!
//! The trait prints with `{:?}` and no type; while `:fmt` names another format or `:types`
//! is on, it is withdrawn (redefined without its method), so evcxr's own formatting applies.

/// The name evcxr keeps the definition under (an item of the context, recompiled with every
/// cell like any item a cell defines).
pub(super) const TRAIT_NAME: &str = "FlowEdgeDisplayByDebug";

/// The trait and its blanket implementation, as one cell.
pub(super) const DEFINITION: &str = "\
trait FlowEdgeDisplayByDebug { fn evcxr_display(&mut self); }
impl<T: ::std::fmt::Debug + ?Sized> FlowEdgeDisplayByDebug for T {
    fn evcxr_display(&mut self) {
        use ::std::io::Write;
        let text = ::std::format!(\"{:?}\", self);
        let stdout = ::std::io::stdout();
        let mut out = stdout.lock();
        let _ = out
            .write_all(b\"EVCXR_BEGIN_CONTENT text/plain\\n\")
            .and_then(|()| out.write_all(text.as_bytes()))
            .and_then(|()| out.write_all(b\"\\nEVCXR_END_CONTENT\\n\"));
    }
}";

/// The same name without a method: replaces the definition (and its implementation, kept
/// under the same name) so every value goes through evcxr's own display again.
pub(super) const WITHDRAWAL: &str = "trait FlowEdgeDisplayByDebug {}";

/// evcxr's display settings, as its `:fmt` and `:types` commands last reported them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DisplaySettings {
    format: String,
    types: bool,
}

impl Default for DisplaySettings {
    fn default() -> Self {
        DisplaySettings {
            format: "{:?}".to_owned(),
            types: false,
        }
    }
}

impl DisplaySettings {
    /// Follows the commands' replies in a cell's plain-text output ("Output format: …",
    /// "Types: …"), the last of each winning.
    pub(super) fn observe(&mut self, plain_text: &str) {
        for line in plain_text.lines() {
            if let Some(format) = line.strip_prefix("Output format: ") {
                format.clone_into(&mut self.format);
            } else if let Some(types) = line.strip_prefix("Types: ") {
                self.types = types.trim() == "true";
            }
        }
    }

    /// Whether the trait prints what evcxr would.
    pub(super) fn trait_matches(&self) -> bool {
        self.format == "{:?}" && !self.types
    }
}

/// Whether the definition is in force, and what to do about it.
#[derive(Debug, Default)]
pub(super) struct PlainDisplay {
    pub settings: DisplaySettings,
    /// The definition was compiled and not withdrawn since (nor cleared by `:clear`).
    active: bool,
    /// A definition or a withdrawal failed once: neither is tried again in this kernel.
    failed: bool,
}

/// What the worker should compile next, if anything.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    Define,
    Withdraw,
}

impl PlainDisplay {
    /// The step due now. `defined` says whether evcxr still holds an item of the trait's
    /// name; `idle` whether no request waits (a definition is only worth compiling then).
    pub(super) fn next_step(&mut self, defined: bool, idle: bool) -> Option<Step> {
        if !defined {
            self.active = false;
        }
        let wanted = self.settings.trait_matches();
        if self.active && !wanted {
            Some(Step::Withdraw)
        } else if !self.active && wanted && idle && !self.failed {
            Some(Step::Define)
        } else {
            None
        }
    }

    /// Records how a step went.
    pub(super) fn step_done(&mut self, step: Step, succeeded: bool) {
        match step {
            Step::Define if succeeded => self.active = true,
            Step::Define => self.failed = true,
            Step::Withdraw => {
                self.active = false;
                // A failed withdrawal leaves the trait in place (the kernel's log says so):
                // neither tried again nor defined again.
                self.failed |= !succeeded;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trait_is_defined_when_idle_and_withdrawn_when_the_format_changes() {
        let mut display = PlainDisplay::default();
        assert_eq!(display.next_step(false, false), None, "a request waits");
        assert_eq!(display.next_step(false, true), Some(Step::Define));
        display.step_done(Step::Define, true);
        assert_eq!(display.next_step(true, true), None);
        display.settings.observe("Output format: {:#?}");
        assert_eq!(display.next_step(true, false), Some(Step::Withdraw));
        display.step_done(Step::Withdraw, true);
        assert_eq!(display.next_step(true, true), None);
        display.settings.observe("Output format: {:?}");
        assert_eq!(display.next_step(true, true), Some(Step::Define));
    }

    #[test]
    fn types_on_withdraw_it_and_clear_forgets_it() {
        let mut display = PlainDisplay::default();
        display.step_done(Step::Define, true);
        display.settings.observe("Types: true");
        assert!(!display.settings.trait_matches());
        assert_eq!(display.next_step(true, true), Some(Step::Withdraw));
        display.step_done(Step::Withdraw, true);
        display.settings.observe("Types: false");
        // `:clear` dropped every item: the definition is due again.
        assert_eq!(display.next_step(false, true), Some(Step::Define));
    }

    #[test]
    fn a_failed_definition_is_not_retried() {
        let mut display = PlainDisplay::default();
        display.step_done(Step::Define, false);
        assert_eq!(display.next_step(false, true), None);
    }
}
