//! `schedule`: five-field cron and `@` words. A schedule that parses gives fire times that
//! move forward, from any instant (the first 8 bytes) and any start.
#![no_main]
use formation_fuzz::time::cron::Schedule;
use formation_fuzz::time::tz::Zone;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 8 {
        return;
    }
    let (when, rest) = data.split_at(8);
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(schedule) = Schedule::parse(text) else {
        return;
    };
    let after = i64::from_le_bytes(when.try_into().expect("8 bytes")) % (1 << 40);
    let zone = Zone::utc();
    if let Some(next) = schedule.next_after(after, &zone, after) {
        assert!(next > after, "{text:?}: {next} after {after}");
        if let Some(then) = schedule.next_after(next, &zone, after) {
            assert!(then > next, "{text:?}: {then} after {next}");
        }
    }
});
