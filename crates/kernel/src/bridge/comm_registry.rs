//! The comms open between frontend and kernel, for `comm_info_request`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[derive(Clone)]
struct Comm {
    target_name: String,
    opened_by_library: bool,
}

/// Open comms by id; shared by the shell loop and the bridge.
#[derive(Clone, Default)]
pub(crate) struct CommRegistry {
    comms: Arc<Mutex<HashMap<String, Comm>>>,
}

impl CommRegistry {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Comm>> {
        self.comms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn opened(&self, comm_id: &str, target_name: &str, opened_by_library: bool) {
        self.lock().insert(
            comm_id.to_owned(),
            Comm {
                target_name: target_name.to_owned(),
                opened_by_library,
            },
        );
    }

    pub(crate) fn closed(&self, comm_id: &str) {
        self.lock().remove(comm_id);
    }

    /// The library's comms die with its process (interrupt, evcxr restart).
    pub(crate) fn forget_library_comms(&self) {
        self.lock().retain(|_, comm| !comm.opened_by_library);
    }

    /// Comm id → target name, for every comm or only those on `target_name`.
    pub(crate) fn list(&self, target_name: Option<&str>) -> HashMap<String, String> {
        self.lock()
            .iter()
            .filter(|(_, comm)| target_name.is_none_or(|wanted| comm.target_name == wanted))
            .map(|(id, comm)| (id.clone(), comm.target_name.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comm_info_lists_open_comms_by_target_and_forgets_dead_library_comms() {
        let registry = CommRegistry::default();
        registry.opened("w1", "jupyter.widget", true);
        registry.opened("c1", "jupyter.widget.control", false);
        assert_eq!(registry.list(Some("jupyter.widget")).len(), 1);
        assert_eq!(registry.list(None).len(), 2);
        registry.forget_library_comms();
        assert_eq!(
            registry.list(None),
            HashMap::from([("c1".to_owned(), "jupyter.widget.control".to_owned())])
        );
        registry.closed("c1");
        assert!(registry.list(None).is_empty());
    }
}
