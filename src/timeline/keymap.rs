//! What each key means: a key press becomes an [`Action`] according to the mode and the pane
//! with the focus. What an action does to the timeline is `App::apply`'s; the help screen (`?`)
//! lists the same keys.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Where keys are going.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyContext {
    /// Moving around, with the focus on a pane.
    Normal(Focus),
    /// Typing into the prompt line.
    Prompt,
    /// The key help.
    Help,
}

/// Something a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Leave the timeline.
    Quit,
    /// Leave the zoomed detail, else drop the last filter.
    Escape,
    /// Drop the last filter (back to the previous view).
    Back,
    /// Show the key help.
    Help,
    /// Move the focus to the other pane.
    SwitchPane,
    /// Open the prompt line for a search, a filter, a jump or a note.
    Prompt(PromptKind),
    /// Open the prompt line for a file to export the view to.
    ExportPrompt,
    /// Make the histogram one row taller (+1) or shorter (-1).
    HistogramHeight(i8),
    /// Show or hide one lane per identity.
    ToggleLanes,
    /// Show times in the chosen zone or in UTC.
    ToggleZone,
    /// Clear every filter and the search.
    ClearFilters,
    /// Move the selection by this many events.
    MoveBy(isize),
    /// Move the selection by this many pages.
    MoveByPages(isize),
    /// Select the first event.
    First,
    /// Select the last event.
    Last,
    /// Go to the next (true) or previous search match.
    FindMatch(bool),
    /// Go to the next (true) or previous suspicious event.
    FindFlagged(bool),
    /// Show every event of the selected event's operation.
    Related,
    /// Scroll the detail pane by this many lines.
    ScrollDetail(i16),
    /// Choose the previous (-1) or next (+1) column to pivot on.
    PivotColumn(isize),
    /// Filter to the selected event's value in the chosen column.
    Pivot,
    /// Zoom the detail pane in or out.
    ToggleDetail,
    /// Bookmark the selected event (or remove its bookmark).
    ToggleBookmark,
    /// In the identity list: move the cursor by this many identities.
    IdentityBy(isize),
    /// In the identity list: to the first identity.
    IdentityFirst,
    /// In the identity list: to the last identity.
    IdentityLast,
    /// In the identity list: narrow the timeline to the identity under the cursor.
    IdentityChoose,
    /// In the help: scroll by this many lines.
    HelpScroll(i16),
    /// Close the help.
    CloseHelp,
    /// In the prompt: accept the input.
    Submit,
    /// In the prompt: give up.
    Cancel,
    /// In the prompt: delete the last character.
    DeleteChar,
    /// In the prompt: type a character.
    Type(char),
    /// In the prompt: a key that does nothing there.
    KeepPrompt,
}

/// The action of `key` in `context`; `None` for a key released or without meaning there.
pub fn action(context: KeyContext, key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    match context {
        KeyContext::Help => Some(match key.code {
            KeyCode::Char('q') => Action::Quit,
            KeyCode::Down | KeyCode::Char('j') => Action::HelpScroll(1),
            KeyCode::Up | KeyCode::Char('k') => Action::HelpScroll(-1),
            _ => Action::CloseHelp,
        }),
        KeyContext::Prompt => Some(match key.code {
            KeyCode::Enter => Action::Submit,
            KeyCode::Esc => Action::Cancel,
            KeyCode::Backspace => Action::DeleteChar,
            KeyCode::Char(c) if !ctrl => Action::Type(c),
            _ => Action::KeepPrompt,
        }),
        KeyContext::Normal(focus) => normal(focus, key.code, ctrl),
    }
}

fn normal(focus: Focus, code: KeyCode, ctrl: bool) -> Option<Action> {
    // Keys that mean the same whichever pane has the focus.
    let global = match code {
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Esc => Some(Action::Escape),
        KeyCode::Char('?') => Some(Action::Help),
        KeyCode::Tab | KeyCode::BackTab => Some(Action::SwitchPane),
        KeyCode::Char('/') => Some(Action::Prompt(PromptKind::Search)),
        KeyCode::Char('f') if !ctrl => Some(Action::Prompt(PromptKind::Filter)),
        KeyCode::Char('F' | '\\') => Some(Action::Prompt(PromptKind::FilterOut)),
        KeyCode::Char('e') => Some(Action::ExportPrompt),
        KeyCode::Char('+') => Some(Action::HistogramHeight(1)),
        KeyCode::Char('-') => Some(Action::HistogramHeight(-1)),
        KeyCode::Char('L') => Some(Action::ToggleLanes),
        KeyCode::Char('t') => Some(Action::Prompt(PromptKind::Jump)),
        KeyCode::Char('z') => Some(Action::ToggleZone),
        KeyCode::Char('x') => Some(Action::ClearFilters),
        KeyCode::Backspace => Some(Action::Back),
        _ => None,
    };
    if global.is_some() {
        return global;
    }
    if focus == Focus::Identities {
        return match code {
            KeyCode::Down | KeyCode::Char('j') => Some(Action::IdentityBy(1)),
            KeyCode::Up | KeyCode::Char('k') => Some(Action::IdentityBy(-1)),
            KeyCode::Home | KeyCode::Char('g') => Some(Action::IdentityFirst),
            KeyCode::End | KeyCode::Char('G') => Some(Action::IdentityLast),
            KeyCode::Enter | KeyCode::Char(' ') => Some(Action::IdentityChoose),
            _ => None,
        };
    }
    Some(match code {
        KeyCode::Down | KeyCode::Char('j') => Action::MoveBy(1),
        KeyCode::Up | KeyCode::Char('k') => Action::MoveBy(-1),
        KeyCode::PageDown | KeyCode::Char(' ') => Action::MoveByPages(1),
        KeyCode::Char('f') if ctrl => Action::MoveByPages(1),
        KeyCode::PageUp => Action::MoveByPages(-1),
        KeyCode::Char('b') if ctrl => Action::MoveByPages(-1),
        KeyCode::Home | KeyCode::Char('g') => Action::First,
        KeyCode::End | KeyCode::Char('G') => Action::Last,
        KeyCode::Char('n') => Action::FindMatch(true),
        KeyCode::Char('N') => Action::FindMatch(false),
        KeyCode::Char('s') => Action::FindFlagged(true),
        KeyCode::Char('S') => Action::FindFlagged(false),
        KeyCode::Char('r') => Action::Related,
        KeyCode::Char('J') => Action::ScrollDetail(1),
        KeyCode::Char('K') => Action::ScrollDetail(-1),
        KeyCode::Char('d') if ctrl => Action::ScrollDetail(10),
        KeyCode::Char('u') if ctrl => Action::ScrollDetail(-10),
        KeyCode::Left | KeyCode::Char('h') => Action::PivotColumn(-1),
        KeyCode::Right | KeyCode::Char('l') => Action::PivotColumn(1),
        KeyCode::Char('p') => Action::Pivot,
        KeyCode::Enter => Action::ToggleDetail,
        KeyCode::Char('b') => Action::ToggleBookmark,
        _ => return None,
    })
}

/// Which pane keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The event list.
    Timeline,
    /// The identity list.
    Identities,
}

/// What a prompt line is asking for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// A filter to keep matching events.
    Filter,
    /// A filter to drop matching events.
    FilterOut,
    /// An expression to search for (highlight, `n`/`N`), leaving the list as it is.
    Search,
    /// A file to write the events in view to.
    Export,
    /// A time to jump to.
    Jump,
    /// A note for a new bookmark.
    Note,
}

impl PromptKind {
    /// The prompt's label.
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Filter => "filter",
            PromptKind::FilterOut => "filter out",
            PromptKind::Search => "search (n/N next/previous match)",
            PromptKind::Export => "export the events in view to (.csv or .jsonl; never overwrites)",
            PromptKind::Jump => "jump to (RFC 3339, date, +2h/-30m from here, 72h before the end)",
            PromptKind::Note => "bookmark note (Enter to save)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn the_same_key_means_what_its_mode_and_pane_say() {
        let plain = |c| key(KeyCode::Char(c), KeyModifiers::NONE);
        let timeline = KeyContext::Normal(Focus::Timeline);
        let identities = KeyContext::Normal(Focus::Identities);
        assert_eq!(action(timeline, plain('j')), Some(Action::MoveBy(1)));
        assert_eq!(action(identities, plain('j')), Some(Action::IdentityBy(1)));
        assert_eq!(
            action(KeyContext::Help, plain('j')),
            Some(Action::HelpScroll(1))
        );
        assert_eq!(
            action(KeyContext::Prompt, plain('j')),
            Some(Action::Type('j'))
        );
        assert_eq!(
            action(timeline, plain('f')),
            Some(Action::Prompt(PromptKind::Filter))
        );
        assert_eq!(
            action(timeline, key(KeyCode::Char('f'), KeyModifiers::CONTROL)),
            Some(Action::MoveByPages(1))
        );
        // Ctrl-C leaves from anywhere, even while typing; a released key does nothing.
        for context in [timeline, identities, KeyContext::Help, KeyContext::Prompt] {
            assert_eq!(
                action(context, key(KeyCode::Char('c'), KeyModifiers::CONTROL)),
                Some(Action::Quit)
            );
        }
        let mut released = plain('q');
        released.kind = KeyEventKind::Release;
        assert_eq!(action(timeline, released), None);
        assert_eq!(action(identities, plain('n')), None);
        assert_eq!(
            action(KeyContext::Help, plain('x')),
            Some(Action::CloseHelp)
        );
    }
}
