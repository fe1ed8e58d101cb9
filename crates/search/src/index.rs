//! [`SearchIndex`]: the index on disk or in memory, its one writer and one reader, its schema
//! version, and the cursor the caller indexed up to.

use crate::analysis::{self, Analyzer, is_cyrillic, is_latin};
use crate::doc::{DocKind, Document, GroupChange};
use crate::error::{Error, Result};
use crate::schema::{self, Fields, SCHEMA_VERSION};
use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use switchboard_domain::Language;
use switchboard_domain::language::detect_all;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The file beside the index that holds its [`SCHEMA_VERSION`].
const VERSION_FILE: &str = "switchboard-search-version";

/// tantivy's own metadata file: its presence means the directory holds an index.
const TANTIVY_META: &str = "meta.json";

/// Writer memory (split between its threads) on disk, and in memory (tests).
const WRITER_HEAP_BYTES: usize = 96 * 1024 * 1024;
const WRITER_HEAP_BYTES_IN_MEMORY: usize = 24 * 1024 * 1024;

/// Indexing threads. One: the index is kept current beside the intake on the same cores, and a
/// second indexing thread took from the intake more than it gave the index (measured: intake
/// −14 % with two, see BENCHMARKS.md).
const WRITER_THREADS: usize = 1;

/// How often [`SearchIndex::rebuild`] reports progress (documents).
const PROGRESS_EVERY: u64 = 1000;

/// A full-text index of one server: every workspace's conversations, messages, contacts and
/// articles. `Send + Sync`, cheap to clone (shared inside): one writer (serialised), one reader
/// reloaded after each commit.
#[derive(Clone)]
pub struct SearchIndex {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) fields: Fields,
    pub(crate) reader: IndexReader,
    writer: Mutex<IndexWriter>,
    cursor: Mutex<Option<i64>>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").field("num_docs", &self.num_docs()).field("cursor", &self.cursor()).finish()
    }
}

impl SearchIndex {
    /// Opens (creating if missing) the index under `dir`. If the schema version stored in the
    /// directory differs from this build's [`SCHEMA_VERSION`] (or an index is there without a
    /// version), the directory's contents are deleted and an empty index is created: its
    /// [`cursor`](Self::cursor) is `None` and the caller reindexes. A directory holding other
    /// files and no index is an error ([`Error::NotAnIndex`]), never wiped.
    pub fn open(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir)?;
        let version_path = dir.join(VERSION_FILE);
        let version = match fs::read_to_string(&version_path) {
            Ok(text) => Some(text.trim().parse::<u32>().ok()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let has_index = dir.join(TANTIVY_META).exists();
        let (schema, fields) = schema::build();
        let index = match version {
            Some(Some(v)) if v == SCHEMA_VERSION && has_index => Index::open_in_dir(dir)?,
            Some(_) => {
                wipe(dir)?;
                create(dir, schema, &version_path)?
            }
            None if has_index => {
                wipe(dir)?;
                create(dir, schema, &version_path)?
            }
            None => {
                if fs::read_dir(dir)?.next().is_some() {
                    return Err(Error::NotAnIndex(dir.to_path_buf()));
                }
                create(dir, schema, &version_path)?
            }
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(WRITER_THREADS);
        Self::with_index(index, fields, threads, WRITER_HEAP_BYTES)
    }

    /// An empty index in memory (tests, tools), with a small single-threaded writer.
    pub fn in_memory() -> Result<Self> {
        let (schema, fields) = schema::build();
        Self::with_index(Index::create_in_ram(schema), fields, 1, WRITER_HEAP_BYTES_IN_MEMORY)
    }

    fn with_index(index: Index, fields: Fields, threads: usize, heap: usize) -> Result<Self> {
        analysis::register(index.tokenizers());
        let cursor = index.load_metas()?.payload.and_then(|p| p.parse::<i64>().ok());
        let writer = index.writer_with_num_threads(threads, heap)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex { inner: Arc::new(Inner { fields, reader, writer: Mutex::new(writer), cursor: Mutex::new(cursor) }) })
    }

    /// Replaces every document of each group in `changes` by the given documents (an empty list
    /// deletes the group), in order (a group given twice ends as its last change), then commits
    /// once with `cursor` stored in the commit. Searches see the change once this returns. On an
    /// error nothing of the batch is kept.
    pub fn apply(&self, changes: Vec<GroupChange>, cursor: i64) -> Result<()> {
        let mut writer = self.writer()?;
        let fields = &self.inner.fields;
        let staged = (|| -> Result<()> {
            for change in changes {
                writer.delete_term(Term::from_field_text(fields.group, &change.group));
                for doc in change.docs {
                    if doc.group != change.group {
                        return Err(Error::WrongGroup { key: doc.key, doc_group: doc.group, group: change.group });
                    }
                    writer.add_document(to_tantivy(fields, &doc))?;
                }
            }
            Ok(())
        })();
        self.finish(&mut writer, staged, Some(cursor))
    }

    /// Replaces the whole index by `docs` in one commit with `cursor` (the reindex command):
    /// searches see the old index until it is done, and the old index stays if it fails.
    /// `progress` is called with the number of documents added every 1000 documents and once at
    /// the end (after the commit) if that number was not just reported. Returns that number.
    pub fn rebuild<I, F>(&self, docs: I, cursor: i64, mut progress: F) -> Result<u64>
    where
        I: IntoIterator<Item = Document>,
        F: FnMut(u64),
    {
        let mut writer = self.writer()?;
        let fields = &self.inner.fields;
        let mut done = 0u64;
        let staged = (|| -> Result<()> {
            writer.delete_all_documents()?;
            for doc in docs {
                writer.add_document(to_tantivy(fields, &doc))?;
                done += 1;
                if done.is_multiple_of(PROGRESS_EVERY) {
                    progress(done);
                }
            }
            Ok(())
        })();
        self.finish(&mut writer, staged, Some(cursor))?;
        if !done.is_multiple_of(PROGRESS_EVERY) || done == 0 {
            progress(done);
        }
        Ok(done)
    }

    /// Deletes every document (before a rebuild by [`apply`](Self::apply)); the cursor becomes
    /// `None`.
    pub fn clear(&self) -> Result<()> {
        let mut writer = self.writer()?;
        let staged = writer.delete_all_documents().map(|_| ()).map_err(Error::from);
        self.finish(&mut writer, staged, None)
    }

    /// The cursor of the last commit; `None` for a new, wiped or cleared index.
    pub fn cursor(&self) -> Option<i64> {
        *self.inner.cursor.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Documents searchable now.
    pub fn num_docs(&self) -> u64 {
        self.inner.reader.searcher().num_docs()
    }

    /// The writer; after a panic in another call that held it, its uncommitted work is
    /// dropped first.
    fn writer(&self) -> Result<MutexGuard<'_, IndexWriter>> {
        match self.inner.writer.lock() {
            Ok(writer) => Ok(writer),
            Err(poisoned) => {
                let mut writer = poisoned.into_inner();
                writer.rollback()?;
                self.inner.writer.clear_poison();
                Ok(writer)
            }
        }
    }

    /// Commits what was staged with `cursor` and reloads the reader, or rolls it back.
    fn finish(&self, writer: &mut IndexWriter, staged: Result<()>, cursor: Option<i64>) -> Result<()> {
        if let Err(e) = staged {
            writer.rollback()?;
            return Err(e);
        }
        let committed = (|| -> Result<()> {
            let mut prepared = writer.prepare_commit()?;
            if let Some(cursor) = cursor {
                prepared.set_payload(&cursor.to_string());
            }
            prepared.commit()?;
            Ok(())
        })();
        if let Err(e) = committed {
            writer.rollback()?;
            return Err(e);
        }
        *self.inner.cursor.lock().unwrap_or_else(|e| e.into_inner()) = cursor;
        self.inner.reader.reload()?;
        Ok(())
    }
}

fn create(dir: &Path, schema: tantivy::schema::Schema, version_path: &Path) -> Result<Index> {
    let index = Index::create_in_dir(dir, schema)?;
    fs::write(version_path, format!("{SCHEMA_VERSION}\n"))?;
    Ok(index)
}

/// Deletes what `dir` holds, keeping `dir` itself.
fn wipe(dir: &Path) -> Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// `s` cut to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Characters of title and body that language detection reads.
const DETECT_BYTES: usize = 4096;

/// A document's language (stored, reported in hits) and the language fields its text goes to,
/// its own first. A given language is the only one. Otherwise the detected one and every other
/// its words may be in ([`detect_all`]): a contact `Иван Петров, ivan.petrov@example.org` is
/// found by `Ивана`, a message `Jan Kowalski` (Polish or English?) by `Kowalskiego`.
fn languages(doc: &Document, body: &str) -> (Option<Language>, Vec<Language>) {
    if let Some(language) = doc.language {
        return (Some(language), vec![language]);
    }
    let sample = cut(body, DETECT_BYTES);
    let all = if doc.title.is_empty() { detect_all(sample) } else { detect_all(&format!("{}\n{sample}", cut(&doc.title, DETECT_BYTES))) };
    (all.first().copied(), all)
}

fn to_tantivy(fields: &Fields, doc: &Document) -> TantivyDocument {
    let body = cut(&doc.body, Document::MAX_INDEXED_BODY);
    let (language, analysed) = languages(doc, body);
    let mut t = TantivyDocument::new();
    t.add_text(fields.workspace, &doc.workspace);
    t.add_text(fields.kind, doc.kind.as_str());
    t.add_text(fields.target_id, &doc.target_id);
    t.add_text(fields.key, &doc.key);
    t.add_text(fields.group, &doc.group);
    t.add_text(fields.variant, &doc.variant);
    t.add_text(fields.language, language.map_or("", |l| l.code()));
    t.add_text(fields.title, &doc.title);
    // An article's questions and short answer are read back whole by `match_articles`.
    let phrasings = doc.kind == DocKind::Article && matches!(doc.variant.as_str(), "questions" | "short");
    t.add_text(fields.body, if phrasings { body } else { cut(body, Document::MAX_STORED_BODY) });
    t.add_i64(fields.at, doc.at);
    for (i, language) in analysed.into_iter().enumerate() {
        let analyzer = Analyzer::of(language) as usize;
        if i == 0 {
            t.add_text(fields.text[analyzer], body);
            t.add_text(fields.title_text[analyzer], &doc.title);
        } else {
            // Another language's field gets only the words of its script: a Russian message
            // with an e-mail address puts the address's words in the English and Polish fields,
            // not its Russian words (which would make every Russian query word a union of three
            // long posting lists).
            t.add_text(fields.text[analyzer], script_words(body, language));
            t.add_text(fields.title_text[analyzer], script_words(&doc.title, language));
        }
    }
    t.add_text(fields.text[Analyzer::Simple as usize], body);
    t.add_text(fields.title_text[Analyzer::Simple as usize], &doc.title);
    t
}

/// The words of `text` (runs of letters and digits) with a letter of `language`'s script,
/// space-separated.
fn script_words(text: &str, language: Language) -> String {
    let in_script = |c: char| match language {
        Language::Ru => is_cyrillic(c),
        Language::Pl | Language::En => is_latin(c),
    };
    let mut out = String::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| w.chars().any(in_script)) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}
