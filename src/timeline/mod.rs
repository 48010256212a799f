//! `mcpforensics timeline`: the interactive timeline of a case in the terminal.
//!
//! - [`store`] holds the loaded events column-wise; [`loader`] fills it from DataFusion on worker
//!   threads (the first day first, then larger chunks) and answers detail requests;
//! - [`state`] is everything keys, mouse and updates do; [`view`] draws it; [`filter`] is the
//!   filter syntax; marked evidence is kept in the case (`crate::case::bookmarks`).
//!
//! The terminal is restored on exit, on Ctrl-C (raw mode delivers it as a key) and on panic
//! (ratatui's hook).

mod error;
pub mod export;
pub mod filter;
pub mod keymap;
pub mod loader;
pub mod state;
pub mod store;
pub mod view;

use std::path::PathBuf;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent,
};
use ratatui::crossterm::execute;

use crate::case::Case;
use crate::case::bookmarks::Bookmarks;
use crate::query::pack::PackParams;
use crate::scope::Ioc;
pub use error::TimelineError;
use loader::{LoadPlan, Update};
use state::{App, Context, Effect};

/// What to show.
#[derive(Debug, Clone)]
pub struct TimelineOptions {
    /// Case directory.
    pub case: PathBuf,
    /// Window start.
    pub from: DateTime<Utc>,
    /// Window end (exclusive).
    pub to: DateTime<Utc>,
    /// The scope window for suspect marks; `None` shows failures only.
    pub scope: Option<PackParams>,
    /// Indicators for scope.
    pub iocs: Vec<Ioc>,
    /// Sigma rule files and folders whose hits are marked.
    pub sigma: Vec<PathBuf>,
    /// Identity to start with.
    pub user: Option<String>,
    /// The zone `z` switches to.
    pub zone: crate::time::Zone,
    /// Its label.
    pub zone_label: String,
    /// Bytes the loaded events may hold; loading stops past it.
    pub events_budget: usize,
    /// How its query sessions run (memory).
    pub settings: crate::query::QuerySettings,
}

/// Default of `--events-mib`: at about 45 bytes an event, some 8 million events, while the
/// whole process stays within 1 GiB (docs/performance.md).
pub const DEFAULT_EVENTS_MIB: u64 = 384;

/// The state before any event arrives, from the case's manifest and bookmarks; and the case.
pub fn initial_state(options: &TimelineOptions) -> Result<(App, Arc<Case>), TimelineError> {
    let case = Arc::new(Case::open(&options.case)?);
    let blob_sha256 = case.blob_hashes()?;
    let nanos = |t: DateTime<Utc>| crate::time::to_nanos(t).unwrap_or_default();
    let context = Context {
        case_label: options.case.display().to_string(),
        from: nanos(options.from),
        to: nanos(options.to),
        zone: options.zone,
        zone_label: options.zone_label.clone(),
        blob_sha256,
        marks_note: options
            .scope
            .is_none()
            .then(|| "no suspect marks (give --since or --scope-since)".to_string()),
    };
    let mut app = App::new(context, Bookmarks::load(&options.case)?);
    if let Some(user) = &options.user {
        app.preselect_identity(user);
    }
    Ok((app, case))
}

struct Workers {
    updates: mpsc::Receiver<Update>,
    details: mpsc::Sender<loader::DetailRequest>,
}

fn start_workers(options: &TimelineOptions, case: &Arc<Case>) -> Workers {
    let (update_tx, updates) = mpsc::channel();
    let (details, detail_rx) = mpsc::channel();
    loader::start(
        LoadPlan {
            case: Arc::clone(case),
            from: options.from,
            to: options.to,
            scope: options.scope,
            iocs: options.iocs.clone(),
            sigma: options.sigma.clone(),
            events_budget: options.events_budget,
            settings: options.settings.clone(),
        },
        update_tx.clone(),
    );
    loader::start_detail_worker(
        Arc::clone(case),
        options.settings.clone(),
        detail_rx,
        update_tx,
    );
    Workers { updates, details }
}

/// Runs the interactive timeline until the user quits.
pub fn run(options: &TimelineOptions) -> Result<(), TimelineError> {
    let (mut app, case) = initial_state(options)?;
    let workers = start_workers(options, &case);
    let mut terminal = ratatui::init();
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    // SIGTERM or SIGHUP (a closed SSH session) still gives the terminal back.
    crate::interrupt::set_exit_hook(restore_terminal);
    let outcome = event_loop(&mut terminal, &mut app, &workers);
    restore_terminal();
    outcome
}

fn restore_terminal() {
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    workers: &Workers,
) -> Result<(), TimelineError> {
    let mut dirty = true;
    loop {
        if dirty {
            terminal.draw(|frame| view::draw(frame, app))?;
            dirty = false;
        }
        if let Some(request) = app.wanted_detail() {
            let _ = workers.details.send(request);
        }
        if event::poll(Duration::from_millis(40))? {
            match event::read()? {
                TermEvent::Key(key) if app.on_key(key) == Some(Effect::Quit) => return Ok(()),
                TermEvent::Mouse(mouse) => app.on_mouse(mouse),
                _ => {}
            }
            dirty = true;
        }
        while let Ok(update) = workers.updates.try_recv() {
            app.on_update(update);
            dirty = true;
        }
    }
}

/// Timings of a headless run (`timeline --bench`), in milliseconds.
#[derive(Debug, serde::Serialize)]
pub struct BenchFigures {
    /// Events in the window.
    pub events: usize,
    /// Chunks they came in.
    pub chunks: usize,
    /// From start to the first frame showing events.
    pub first_paint_ms: f64,
    /// From start to every event loaded.
    pub fully_loaded_ms: f64,
    /// Frames drawn while paging through the timeline (at most 2,000 pages, then a jump to the end).
    pub scroll_frames: usize,
    /// Median time to handle a key and draw the frame while scrolling.
    pub scroll_frame_median_ms: f64,
    /// Slowest such frame.
    pub scroll_frame_max_ms: f64,
    /// Time to apply a filter over every event and draw.
    pub filter_ms: f64,
    /// Width and height of the screen drawn.
    pub screen: (u16, u16),
    /// Memory the loaded events hold, MiB.
    pub events_mib: f64,
    /// Where loading stopped short of the window's end (`--events-mib`), if it did.
    pub stopped_at: Option<String>,
}

/// Measures first paint, load and scrolling on an off-screen terminal of the given size.
pub fn bench(
    options: &TimelineOptions,
    width: u16,
    height: u16,
) -> Result<BenchFigures, TimelineError> {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let started = Instant::now();
    let (mut app, case) = initial_state(options)?;
    let workers = start_workers(options, &case);
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(width, height))
        .map_err(|e| TimelineError::Terminal(std::io::Error::other(e.to_string())))?;
    let draw = |terminal: &mut ratatui::Terminal<ratatui::backend::TestBackend>, app: &mut App| {
        terminal
            .draw(|frame| view::draw(frame, app))
            .map(|_| ())
            .map_err(|e| TimelineError::Terminal(std::io::Error::other(e.to_string())))
    };
    let mut first_paint = None;
    loop {
        let update = workers
            .updates
            .recv_timeout(Duration::from_secs(600))
            .map_err(|e| TimelineError::Terminal(std::io::Error::other(e.to_string())))?;
        let done = matches!(update, Update::Loaded);
        if let Update::Failed(message) = &update {
            return Err(TimelineError::Terminal(std::io::Error::other(
                message.clone(),
            )));
        }
        app.on_update(update);
        if first_paint.is_none() && app.visible_len() > 0 {
            draw(&mut terminal, &mut app)?;
            first_paint = Some(started.elapsed());
        }
        if done {
            break;
        }
    }
    let fully_loaded = started.elapsed();
    draw(&mut terminal, &mut app)?;
    let mut frames = Vec::new();
    // Page through the timeline (at most 2,000 pages), then jump to its end.
    while app.selected + 1 < app.visible_len() && frames.len() < 2_000 {
        let at = Instant::now();
        app.on_key(KeyEvent::new(KeyCode::PageDown, KeyModifiers::NONE));
        draw(&mut terminal, &mut app)?;
        frames.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    let at = Instant::now();
    app.on_key(KeyEvent::new(KeyCode::End, KeyModifiers::NONE));
    draw(&mut terminal, &mut app)?;
    frames.push(at.elapsed().as_secs_f64() * 1000.0);
    frames.sort_by(f64::total_cmp);
    let at = Instant::now();
    for key in "/kind=tool\n".chars() {
        let code = if key == '\n' {
            KeyCode::Enter
        } else {
            KeyCode::Char(key)
        };
        app.on_key(KeyEvent::new(code, KeyModifiers::NONE));
    }
    draw(&mut terminal, &mut app)?;
    let filter = at.elapsed();
    Ok(BenchFigures {
        events: app.store.len(),
        chunks: app.progress.1,
        first_paint_ms: first_paint.unwrap_or(fully_loaded).as_secs_f64() * 1000.0,
        fully_loaded_ms: fully_loaded.as_secs_f64() * 1000.0,
        scroll_frames: frames.len(),
        scroll_frame_median_ms: frames.get(frames.len() / 2).copied().unwrap_or(0.0),
        scroll_frame_max_ms: frames.last().copied().unwrap_or(0.0),
        filter_ms: filter.as_secs_f64() * 1000.0,
        screen: (width, height),
        events_mib: app.store.memory_size() as f64 / f64::from(1 << 20),
        stopped_at: app
            .stopped_at
            .map(|ns| crate::time::format_utc(crate::time::from_nanos(ns))),
    })
}
