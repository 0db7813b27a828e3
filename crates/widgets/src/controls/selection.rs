//! What single-choice controls (`Select`, `RadioButtons`) share: a list of option labels and
//! the index of the selected one, as ipywidgets 8 syncs them (`_options_labels`, `index`).
//!
//! The options are labels only: the Rust side works with strings, so ipywidgets' separate
//! `value`/`label` pair collapses into the label.

use crate::attribute::{Attribute, Field, Initial};
use crate::model::{escape_html, Changes, Model};
use serde_json::{json, Value};
use std::fmt;

/// Why a selection could not be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectionError {
    /// No option has this label.
    UnknownOption { label: String, options: usize },
    /// The index is past the last option.
    IndexOutOfRange { index: usize, options: usize },
}

impl fmt::Display for SelectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SelectionError::UnknownOption { label, options } => {
                write!(f, "{label:?} is not one of the {options} options")
            }
            SelectionError::IndexOutOfRange { index, options } => {
                write!(
                    f,
                    "index {index} is out of range: there are {options} options"
                )
            }
        }
    }
}

impl std::error::Error for SelectionError {}

/// The attributes every single-choice control has.
pub(crate) const SELECTION_FIELDS: &[Field] = &[
    Field(Attribute::OptionsLabels, Initial::EmptyList),
    Field(Attribute::Description, Initial::Text("")),
    Field(Attribute::DescriptionAllowHtml, Initial::Bool(false)),
    Field(Attribute::Disabled, Initial::Bool(false)),
    Field(Attribute::Index, Initial::Null),
];

/// The initial options of a single-choice control, selecting the first like ipywidgets.
pub(crate) fn initial(options: Vec<String>) -> Changes {
    let index = if options.is_empty() {
        Value::Null
    } else {
        json!(0)
    };
    changes(options, index)
}

pub(crate) fn collect_labels(options: impl IntoIterator<Item = impl Into<String>>) -> Vec<String> {
    options.into_iter().map(Into::into).collect()
}

pub(crate) fn options(model: &Model) -> Vec<String> {
    model
        .get(Attribute::OptionsLabels)
        .as_array()
        .into_iter()
        .flatten()
        .map(|label| label.as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The selected index; `None` also when the frontend sent something that is not a valid
/// index of the current options.
pub(crate) fn index(model: &Model) -> Option<usize> {
    let index = usize::try_from(model.get(Attribute::Index).as_u64()?).ok()?;
    (index < options(model).len()).then_some(index)
}

pub(crate) fn value(model: &Model) -> Option<String> {
    let index = index(model)?;
    options(model).into_iter().nth(index)
}

pub(crate) fn try_set_index(model: &Model, index: Option<usize>) -> Result<(), SelectionError> {
    if let Some(index) = index {
        let count = options(model).len();
        if index >= count {
            return Err(SelectionError::IndexOutOfRange {
                index,
                options: count,
            });
        }
    }
    model.set(Attribute::Index, json!(index));
    Ok(())
}

pub(crate) fn try_set_value(model: &Model, label: Option<&str>) -> Result<(), SelectionError> {
    let index = match label {
        None => None,
        Some(label) => {
            let options = options(model);
            let found = options.iter().position(|option| option == label);
            Some(found.ok_or_else(|| SelectionError::UnknownOption {
                label: label.to_owned(),
                options: options.len(),
            })?)
        }
    };
    model.set(Attribute::Index, json!(index));
    Ok(())
}

/// Replaces the options as ipywidgets does: a selection moves to the first new option (none
/// when the list is empty); no selection stays none. Labels and index go in one update.
pub(crate) fn set_options(model: &Model, options: Vec<String>) {
    model.modify(|state| {
        let had_selection = state
            .get(Attribute::Index)
            .is_some_and(|index| !index.is_null());
        let index = if had_selection && !options.is_empty() {
            json!(0)
        } else {
            Value::Null
        };
        changes(options, index)
    });
}

/// Replaces the options and keeps the selected label when it is still one of them;
/// otherwise behaves like [`set_options`].
pub(crate) fn set_options_keeping_value(model: &Model, options: Vec<String>) {
    model.modify(|state| {
        let old_index = state.get(Attribute::Index).and_then(Value::as_u64);
        let old_label = old_index.and_then(|index| {
            let labels = state.get(Attribute::OptionsLabels)?.as_array()?;
            labels.get(usize::try_from(index).ok()?)?.as_str()
        });
        let kept = old_label.and_then(|label| options.iter().position(|option| option == label));
        let index = match (kept, old_index) {
            (Some(position), _) => json!(position),
            (None, Some(_)) if !options.is_empty() => json!(0),
            _ => Value::Null,
        };
        changes(options, index)
    });
}

/// New options and the index selected among them, set together.
fn changes(options: Vec<String>, index: Value) -> Changes {
    vec![
        (Attribute::OptionsLabels, json!(options)),
        (Attribute::Index, index),
    ]
}

/// The description as a static HTML label, or nothing.
pub(crate) fn description_html(model: &Model) -> String {
    let description = model.get_str(Attribute::Description);
    if description.is_empty() {
        String::new()
    } else {
        format!("<label>{}</label> ", escape_html(&description))
    }
}

/// One-line summary: `Select(description="Rating", options=["1", "2"], value="1")`.
pub(crate) fn describe(name: &str, model: &Model) -> String {
    let value = match value(model) {
        Some(label) => format!("{label:?}"),
        None => String::from("None"),
    };
    format!(
        "{name}(description={:?}, options={:?}, value={value})",
        model.get_str(Attribute::Description),
        options(model)
    )
}

/// The methods `Select` and `RadioButtons` share, over the functions of this module.
macro_rules! selection_methods {
    ($control:ident) => {
        impl $control {
            /// The option labels, in order.
            pub fn options(&self) -> Vec<String> {
                selection::options(&self.model)
            }

            /// Replaces the options like ipywidgets: when an option was selected, the first
            /// new option is selected (nothing if the list is empty); when nothing was
            /// selected, nothing is. The browser gets labels and index in one update.
            /// [`set_options_keeping_value`](Self::set_options_keeping_value) keeps the
            /// selected label instead when it is still there.
            pub fn set_options(&self, options: impl IntoIterator<Item = impl Into<String>>) {
                selection::set_options(&self.model, selection::collect_labels(options));
            }

            /// Replaces the options and keeps the selected label when it is still one of
            /// them (at its new position); otherwise behaves like
            /// [`set_options`](Self::set_options).
            pub fn set_options_keeping_value(
                &self,
                options: impl IntoIterator<Item = impl Into<String>>,
            ) {
                selection::set_options_keeping_value(
                    &self.model,
                    selection::collect_labels(options),
                );
            }

            /// The position of the selected option, if any.
            pub fn index(&self) -> Option<usize> {
                selection::index(&self.model)
            }

            /// Selects the option at `index`, or nothing with `None`. An index past the last
            /// option selects nothing; [`try_set_index`](Self::try_set_index) reports it.
            pub fn set_index(&self, index: Option<usize>) {
                if selection::try_set_index(&self.model, index).is_err() {
                    self.model.set(
                        $crate::attribute::Attribute::Index,
                        ::serde_json::Value::Null,
                    );
                }
            }

            /// Selects the option at `index` (or nothing), or says why it cannot and changes
            /// nothing.
            pub fn try_set_index(&self, index: Option<usize>) -> Result<(), SelectionError> {
                selection::try_set_index(&self.model, index)
            }

            /// The label of the selected option, if any.
            pub fn value(&self) -> Option<String> {
                selection::value(&self.model)
            }

            /// Selects the option labelled `label`, or nothing with `None`. An unknown label
            /// selects nothing; [`try_set_value`](Self::try_set_value) reports it.
            pub fn set_value(&self, label: Option<&str>) {
                if selection::try_set_value(&self.model, label).is_err() {
                    self.model.set(
                        $crate::attribute::Attribute::Index,
                        ::serde_json::Value::Null,
                    );
                }
            }

            /// Selects the option labelled `label` (or nothing), or says why it cannot and
            /// changes nothing.
            pub fn try_set_value(&self, label: Option<&str>) -> Result<(), SelectionError> {
                selection::try_set_value(&self.model, label)
            }

            /// The label shown beside the control.
            pub fn description(&self) -> String {
                self.model
                    .get_str($crate::attribute::Attribute::Description)
            }

            /// Changes the label shown beside the control.
            pub fn set_description(&self, description: &str) {
                self.model.set(
                    $crate::attribute::Attribute::Description,
                    ::serde_json::json!(description),
                );
            }

            /// Enables or disables choosing in the browser.
            pub fn set_disabled(&self, disabled: bool) {
                self.model.set(
                    $crate::attribute::Attribute::Disabled,
                    ::serde_json::json!(disabled),
                );
            }

            /// Runs `callback` after the user changed the selection in the browser; the new
            /// selection is already visible through [`index`](Self::index) and
            /// [`value`](Self::value). Changes made from Rust do not call it (so a callback
            /// may change the selection without looping).
            ///
            /// The callback runs on a library thread: print with
            /// [`print_to_frontend`](crate::print_to_frontend). A panic is caught and shown.
            pub fn on_change(&self, callback: impl Fn(&$control) + Send + Sync + 'static) {
                self.model
                    .on_frontend_change(::std::sync::Arc::new(move |model, changes| {
                        if changes.contains(&$crate::attribute::Attribute::Index) {
                            callback(&$control {
                                model: ::std::sync::Arc::clone(model),
                            });
                        }
                    }));
            }
        }
    };
}

pub(crate) use selection_methods;
