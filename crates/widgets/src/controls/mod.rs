//! The controls: one file per widget, each a [`Kind`](crate::model::Kind) plus a typed API.

pub mod boxes;
pub mod button;
pub mod html;
pub mod label;
pub mod layout;
pub mod output_area;
pub mod radio_buttons;
pub mod select;
pub(crate) mod selection;
pub(crate) mod string;
pub(crate) mod style;
pub mod text;
