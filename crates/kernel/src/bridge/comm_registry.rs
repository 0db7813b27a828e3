//! The comms open between frontend and kernel, for `comm_info_request`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[derive(Clone)]
struct Comm {
    target_name: String,
    /// The library connection that opened it, or `None` for a comm the frontend opened.
    owner: Option<u64>,
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

    /// Records a comm opened by the frontend (`owner` None) or by a library connection.
    pub(crate) fn opened(&self, comm_id: &str, target_name: &str, owner: Option<u64>) {
        self.lock().insert(
            comm_id.to_owned(),
            Comm {
                target_name: target_name.to_owned(),
                owner,
            },
        );
    }

    /// Who opened an open comm: `Some(None)` the frontend, `Some(Some(link))` a library
    /// connection, `None` a comm that is not open.
    pub(crate) fn owner(&self, comm_id: &str) -> Option<Option<u64>> {
        self.lock().get(comm_id).map(|comm| comm.owner)
    }

    pub(crate) fn closed(&self, comm_id: &str) {
        self.lock().remove(comm_id);
    }

    /// A connection's comms die with it (interrupt, evcxr restart).
    pub(crate) fn forget_comms_of(&self, link: u64) {
        self.lock().retain(|_, comm| comm.owner != Some(link));
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
        registry.opened("w1", "jupyter.widget", Some(1));
        registry.opened("w2", "jupyter.widget", Some(2));
        registry.opened("c1", "jupyter.widget.control", None);
        assert_eq!(registry.list(Some("jupyter.widget")).len(), 2);
        assert_eq!(registry.owner("w2"), Some(Some(2)));
        assert_eq!(registry.owner("c1"), Some(None));
        assert_eq!(registry.owner("gone"), None);
        registry.forget_comms_of(2);
        assert_eq!(registry.list(None).len(), 2);
        registry.forget_comms_of(1);
        assert_eq!(
            registry.list(None),
            HashMap::from([("c1".to_owned(), "jupyter.widget.control".to_owned())])
        );
        registry.closed("c1");
        assert!(registry.list(None).is_empty());
    }
}
