//! `reload` (SPEC §10).

use super::control::{Answer, Reread};
use super::{Effect, Engine};
use std::time::Instant;

impl Engine {
    /// `reload`.
    pub(super) fn reload_order(
        &mut self,
        _reread: &Reread,
        _dry_run: bool,
        _now: Instant,
        _fx: &mut Vec<Effect>,
    ) -> Answer {
        Answer::Failed(vec!["reload: not available yet".into()])
    }
}
