//! The `kernel_info_reply`: who we are, and what the interpreter says about its language.

use crate::interpreter::InterpreterInfo;
use jupyter_protocol::{CodeMirrorMode, HelpLink, KernelInfoReply, LanguageInfo, ReplyStatus};

/// Messaging protocol version implemented.
pub(crate) const PROTOCOL_VERSION: &str = "5.3";

pub(crate) fn reply(interpreter: InterpreterInfo) -> KernelInfoReply {
    let language = interpreter.language;
    KernelInfoReply {
        status: ReplyStatus::Ok,
        protocol_version: PROTOCOL_VERSION.into(),
        implementation: env!("CARGO_PKG_NAME").into(),
        implementation_version: env!("CARGO_PKG_VERSION").into(),
        language_info: LanguageInfo {
            name: language.name.into(),
            version: language.version,
            mimetype: Some(language.mimetype.into()),
            file_extension: Some(language.file_extension.into()),
            pygments_lexer: Some(language.pygments_lexer.into()),
            codemirror_mode: Some(CodeMirrorMode::Simple(language.codemirror_mode.into())),
            nbconvert_exporter: None,
        },
        banner: interpreter.banner,
        help_links: interpreter
            .help_links
            .into_iter()
            .map(|link| HelpLink {
                text: link.text.into(),
                url: link.url.into(),
            })
            .collect(),
        debugger: false,
        error: None,
    }
}
