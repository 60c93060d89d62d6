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
    /// Before its first start, waiting for the types it starts `after` (SPEC §4.2); one line
    /// at `notice_at` says what it waits for.
    Gated { notice_at: Instant },
    /// To be started at `at` (the first start, or a restart after its backoff).
    Waiting { at: Instant },
    /// A scheduled instance between runs: its type's next fire starts it (SPEC §4.4).
    Idle,
    /// Its process `pid` (the leader of process group `pid`) runs since `since`.
    Running {
        pid: Pid,
        since: Instant,
        check: Check,
    },
    /// Its group was sent the stop signal (a stop, a failed readiness or health check);
    /// SIGKILL at `kill_at` (None once sent).
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
    /// Never started: a dependency ended for good with this exit without meeting its
    /// condition (SPEC §4.2).
    Skipped(Exit),
    /// Stopped by the operator (`formation stop`, a scale down, a reload that removed its
    /// type) and staying so until a `start` (SPEC §10): no policy applies. It counts as live,
    /// so that stopping everything does not end the formation.
    Stopped,
}

/// Where a running instance's checks stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Not ready yet: the next attempt at `probe_at` (None while one is under way, or for a
    /// check that waits to be told), a failed start at `give_up_at`, a line at `notice_at`.
    Starting {
        probe_at: Option<Instant>,
        give_up_at: Option<Instant>,
        notice_at: Instant,
    },
    /// Ready since `since` (at its spawn when it has no ready check). With a health check:
    /// the next attempt at `probe_at` (None while one is under way), `failures` in a row.
    Ready {
        since: Instant,
        probe_at: Option<Instant>,
        failures: u32,
    },
}

impl State {
    /// The earliest time this state waits for, if any.
    pub fn deadline(&self) -> Option<Instant> {
        match *self {
            State::Gated { notice_at } => Some(notice_at),
            State::Waiting { at } => Some(at),
            State::Running { check, .. } => match check {
                Check::Starting {
                    probe_at,
                    give_up_at,
                    notice_at,
                } => [probe_at, give_up_at, Some(notice_at)]
                    .into_iter()
                    .flatten()
                    .min(),
                Check::Ready { probe_at, .. } => probe_at,
            },
            State::Stopping { kill_at, .. } | State::Ending { kill_at, .. } => kill_at,
            State::Idle | State::Ended(_) | State::Skipped(_) | State::Stopped => None,
        }
    }

    /// The process group of its processes, while it has any.
    pub fn group(&self) -> Option<Pid> {
        match *self {
            State::Running { pid, .. } | State::Stopping { pid, .. } => Some(pid),
            State::Ending { pgid, .. } => Some(pgid),
            _ => None,
        }
    }

    /// The leader we wait for, while it runs.
    pub fn leader(&self) -> Option<Pid> {
        match *self {
            State::Running { pid, .. } | State::Stopping { pid, .. } => Some(pid),
            _ => None,
        }
    }

    /// Not ended for good: it runs, will run, or waits to.
    pub fn live(&self) -> bool {
        !matches!(self, State::Ended(_) | State::Skipped(_))
    }

    /// Its group has processes that no SIGKILL was sent to yet: a tiered stop waits for these.
    pub fn holds(&self) -> bool {
        match *self {
            State::Running { .. } => true,
            State::Stopping { kill_at, .. } | State::Ending { kill_at, .. } => kill_at.is_some(),
            _ => false,
        }
    }
}

/// Whether an instance in `state` meets the condition its dependents wait for (SPEC §4.2): a
/// oneshot has completed (exited 0), a type with a ready check is ready, any other runs.
pub fn meets(plan: &Instance, state: &State) -> bool {
    match *state {
        State::Ended(Some(exit)) => plan.oneshot && exit.success(),
        State::Running { check, .. } if !plan.oneshot => {
            plan.ready.is_none() || matches!(check, Check::Ready { .. })
        }
        _ => false,
    }
}

/// The exit with which an instance ended for good without meeting its condition: its
/// dependents can never start.
pub fn failed(plan: &Instance, state: &State) -> Option<Exit> {
    match *state {
        State::Ended(Some(exit)) if !meets(plan, state) => Some(exit),
        State::Skipped(exit) => Some(exit),
        _ => None,
    }
}

/// The state an instance starts in: idle for a scheduled one (its fire starts it), gated
/// when it starts `after` others, else due at `now`.
pub fn first_state(plan: &Instance, now: Instant) -> State {
    if plan.schedule.is_some() {
        State::Idle
    } else if plan.after.is_empty() {
        State::Waiting { at: now }
    } else {
        State::Gated {
            notice_at: now + NOTICE_EVERY,
        }
    }
}

/// One instance and its history.
pub struct Slot {
    pub plan: Instance,
    pub state: State,
    /// Restarts since its last healthy run.
    pub restarts: u32,
    /// Every restart it ever had (a counter for the status listener: never reset).
    pub restarts_total: u32,
    /// How its process last ended, if it ever did.
    pub last_exit: Option<Exit>,
    /// Its last process group, for the sweep when we are not PID 1.
    pub last_pgid: Option<Pid>,
    /// How many times it was spawned: a check result names the run it was made for.
    pub run: u64,
    /// The last failed readiness attempt's error, for the waiting line.
    pub last_error: Option<String>,
    /// What the operator asked of its current run (SPEC §10): its end then follows that,
    /// not its policy.
    pub intent: Option<super::control::Intent>,
    /// The plan a reload gave it, taken up the next time it starts (SPEC §10).
    pub next_plan: Option<Box<Instance>>,
}

/// While an instance waits (for a dependency, or to be ready), a line this often says what
/// for (SPEC §4.2).
pub const NOTICE_EVERY: Duration = Duration::from_secs(30);

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
    /// Per type (`type_index`): its slots.
    members: Vec<Vec<SlotId>>,
    /// Per type: how many of its instances meet their dependents' condition.
    met: Vec<usize>,
    /// Per type: how many of its instances hold a tiered stop back ([`State::holds`]).
    holding: Vec<usize>,
    /// Per type: the first instance that ended for good without meeting the condition.
    failed: Vec<Option<(SlotId, Exit)>>,
    /// Types whose `met` or `failed` changed since the engine last looked.
    dirty: Vec<usize>,
}

impl Table {
    /// A table of `instances`: those with dependencies gated, the others due at `now`.
    pub fn new(instances: Vec<Instance>, now: Instant) -> Table {
        let types = instances
            .iter()
            .map(|i| i.type_index + 1)
            .max()
            .unwrap_or(0);
        let mut table = Table {
            slots: Vec::with_capacity(instances.len()),
            leaders: HashMap::new(),
            timers: BTreeSet::new(),
            ending: BTreeSet::new(),
            live: 0,
            active: 0,
            members: vec![Vec::new(); types],
            met: vec![0; types],
            holding: vec![0; types],
            failed: vec![None; types],
            dirty: Vec::new(),
        };
        for plan in instances {
            let first = first_state(&plan, now);
            table.push(plan, first);
        }
        table
    }

    /// Adds a slot for `plan` in `state` (a type's first instances, a scale up, a reload),
    /// growing the per-type indexes to its type; its id is the next one.
    pub fn push(&mut self, plan: Instance, state: State) -> SlotId {
        let id = self.slots.len();
        self.grow(plan.type_index + 1);
        self.members[plan.type_index].push(id);
        self.slots.push(Slot {
            plan,
            state: State::Ended(None),
            restarts: 0,
            restarts_total: 0,
            last_exit: None,
            last_pgid: None,
            run: 0,
            last_error: None,
            intent: None,
            next_plan: None,
        });
        self.set(id, state);
        id
    }

    /// Makes room for `types` process types (a reload may add some).
    pub fn grow(&mut self, types: usize) {
        if types > self.members.len() {
            self.members.resize(types, Vec::new());
            self.met.resize(types, 0);
            self.holding.resize(types, 0);
            self.failed.resize(types, None);
        }
    }

    /// Forgets the first failure of type `t`: an operator started it again.
    pub fn clear_failed(&mut self, t: usize) {
        self.failed[t] = None;
    }

    /// How many process types there are.
    pub fn types(&self) -> usize {
        self.members.len()
    }

    /// The slots of type `t`.
    pub fn members(&self, t: usize) -> &[SlotId] {
        &self.members[t]
    }

    /// Whether every instance of type `t` meets its dependents' condition.
    pub fn all_met(&self, t: usize) -> bool {
        self.met[t] == self.members[t].len()
    }

    /// How many instances of type `t` hold a tiered stop back.
    pub fn holding(&self, t: usize) -> usize {
        self.holding[t]
    }

    /// The first instance of type `t` that ended for good without meeting the condition.
    pub fn failed(&self, t: usize) -> Option<(SlotId, Exit)> {
        self.failed[t]
    }

    /// Takes the types whose condition changed since the last call.
    pub fn take_dirty(&mut self) -> Vec<usize> {
        std::mem::take(&mut self.dirty)
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
        let count =
            |f: fn(&State) -> bool| usize::from(f(&state)) as isize - usize::from(f(&old)) as isize;
        self.live = self.live.wrapping_add_signed(count(State::live));
        self.active = self
            .active
            .wrapping_add_signed(count(|s| s.group().is_some()));
        let plan = &self.slots[id].plan;
        let t = plan.type_index;
        self.holding[t] = self.holding[t].wrapping_add_signed(count(State::holds));
        let (was, is) = (meets(plan, &old), meets(plan, &state));
        if was != is {
            self.met[t] = self.met[t].wrapping_add_signed(isize::from(is) - isize::from(was));
            self.dirty.push(t);
        }
        if let Some(exit) = failed(plan, &state)
            && self.failed[t].is_none()
        {
            self.failed[t] = Some((id, exit));
            self.dirty.push(t);
        }
    }
}
