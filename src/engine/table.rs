//! The instance table: every slot's plan, state and history, and the indexes that keep each
//! event O(log n) in the number of instances — leader pid → slot, (deadline, slot) timers, the
//! set of ending slots, and counts of live and active slots. [`Table::set`] is the only way a
//! state changes, so the indexes cannot drift from the states.

use super::SlotId;
use super::exit::Exit;
use crate::plan::Instance;
use nix::unistd::Pid;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Where an instance is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// To be started at `at` (the first start, or a restart after its backoff).
    Waiting { at: Instant },
    /// Its process `pid` (the leader of process group `pid`) runs since `since`.
    Running { pid: Pid, since: Instant },
    /// A stop sent its group the stop signal; SIGKILL at `kill_at` (None once sent).
    Stopping {
        pid: Pid,
        since: Instant,
        kill_at: Option<Instant>,
    },
    /// Its leader exited with `exit` after `uptime`, and the rest of group `pgid` was told to
    /// stop; SIGKILL at `kill_at` (None once sent). It ends when the group is empty.
    Ending {
        pgid: Pid,
        exit: Exit,
        uptime: Duration,
        kill_at: Option<Instant>,
    },
    /// Ended for good: with this exit, or None when a stop came before it ever ran again.
    Ended(Option<Exit>),
}

impl State {
    /// The time this state waits for, if any.
    pub fn deadline(&self) -> Option<Instant> {
        match *self {
            State::Waiting { at } => Some(at),
            State::Stopping { kill_at, .. } | State::Ending { kill_at, .. } => kill_at,
            State::Running { .. } | State::Ended(_) => None,
        }
    }

    /// The process group of its processes, while it has any.
    pub fn group(&self) -> Option<Pid> {
        match *self {
            State::Running { pid, .. } | State::Stopping { pid, .. } => Some(pid),
            State::Ending { pgid, .. } => Some(pgid),
            State::Waiting { .. } | State::Ended(_) => None,
        }
    }

    /// The leader we wait for, while it runs.
    pub fn leader(&self) -> Option<Pid> {
        match *self {
            State::Running { pid, .. } | State::Stopping { pid, .. } => Some(pid),
            _ => None,
        }
    }
}

/// One instance and its history.
pub struct Slot {
    pub plan: Instance,
    pub state: State,
    /// Restarts since its last healthy run.
    pub restarts: u32,
    /// Its last process group, for the sweep when we are not PID 1.
    pub last_pgid: Option<Pid>,
}

/// The slots and their indexes.
pub struct Table {
    slots: Vec<Slot>,
    /// Leader pid → slot, for every instance whose leader runs.
    leaders: HashMap<Pid, SlotId>,
    /// Every deadline of a slot, earliest first.
    timers: BTreeSet<(Instant, SlotId)>,
    /// Slots whose group must empty before they end.
    ending: BTreeSet<SlotId>,
    /// Slots not yet ended for good.
    live: usize,
    /// Slots with processes (running, stopping or ending).
    active: usize,
}

impl Table {
    /// A table of `instances`, all waiting to start at `now`.
    pub fn new(instances: Vec<Instance>, now: Instant) -> Table {
        let mut table = Table {
            slots: Vec::with_capacity(instances.len()),
            leaders: HashMap::new(),
            timers: BTreeSet::new(),
            ending: BTreeSet::new(),
            live: 0,
            active: 0,
        };
        for plan in instances {
            let id = table.slots.len();
            table.slots.push(Slot {
                plan,
                state: State::Ended(None),
                restarts: 0,
                last_pgid: None,
            });
            table.set(id, State::Waiting { at: now });
        }
        table
    }

    /// How many slots there are.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Slot `id`.
    pub fn slot(&self, id: SlotId) -> &Slot {
        &self.slots[id]
    }

    /// Slot `id`, to change its history (not its state: see [`Table::set`]).
    pub fn slot_mut(&mut self, id: SlotId) -> &mut Slot {
        &mut self.slots[id]
    }

    /// Every slot, in order.
    pub fn slots(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter()
    }

    /// The slot whose running leader is `pid`.
    pub fn leader(&self, pid: Pid) -> Option<SlotId> {
        self.leaders.get(&pid).copied()
    }

    /// Every process group an instance ever had.
    pub fn groups(&self) -> impl Iterator<Item = Pid> + '_ {
        self.slots.iter().filter_map(|s| s.last_pgid)
    }

    /// The groups of ending instances.
    pub fn ending_groups(&self) -> Vec<(SlotId, Pid)> {
        self.ending
            .iter()
            .filter_map(|&id| Some((id, self.slots[id].state.group()?)))
            .collect()
    }

    /// Slots not yet ended for good.
    pub fn live(&self) -> usize {
        self.live
    }

    /// Slots with processes.
    pub fn active(&self) -> usize {
        self.active
    }

    /// The earliest deadline of any slot.
    pub fn next_timer(&self) -> Option<Instant> {
        self.timers.first().map(|&(at, _)| at)
    }

    /// Takes the earliest deadline due at `now`, if any, and names its slot. The slot's state
    /// still holds the deadline until the caller moves it on.
    pub fn pop_due(&mut self, now: Instant) -> Option<SlotId> {
        let &(at, id) = self.timers.first()?;
        (at <= now).then(|| {
            self.timers.pop_first();
            id
        })
    }

    /// Moves slot `id` to `state`, keeping the indexes (leaders, timers, ending, counts) true.
    pub fn set(&mut self, id: SlotId, state: State) {
        let old = std::mem::replace(&mut self.slots[id].state, state);
        if let Some(at) = old.deadline() {
            self.timers.remove(&(at, id));
        }
        if let Some(at) = state.deadline() {
            self.timers.insert((at, id));
        }
        if let Some(pid) = old.leader() {
            self.leaders.remove(&pid);
        }
        if let Some(pid) = state.leader() {
            self.leaders.insert(pid, id);
        }
        if matches!(old, State::Ending { .. }) {
            self.ending.remove(&id);
        }
        if matches!(state, State::Ending { .. }) {
            self.ending.insert(id);
        }
        let live = |s: &State| !matches!(s, State::Ended(_));
        let active = |s: &State| s.group().is_some();
        self.live = self.live + usize::from(live(&state)) - usize::from(live(&old));
        self.active = self.active + usize::from(active(&state)) - usize::from(active(&old));
    }
}
