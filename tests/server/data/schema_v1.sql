
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('host', 'player')),
    token_hash BLOB NOT NULL,
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    ruleset TEXT NOT NULL,
    title TEXT NOT NULL,
    settings TEXT NOT NULL,
    host INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    state BLOB NOT NULL,
    deadline INTEGER,
    seq INTEGER NOT NULL DEFAULT 0,
    created INTEGER NOT NULL,
    error TEXT
);
CREATE TABLE IF NOT EXISTS invites (
    id INTEGER PRIMARY KEY,
    game TEXT NOT NULL REFERENCES games(id),
    nation TEXT,
    code_hash BLOB NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users(id),
    used_by INTEGER REFERENCES users(id),
    created INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS seats (
    game TEXT NOT NULL REFERENCES games(id),
    nation TEXT NOT NULL,
    user INTEGER REFERENCES users(id),
    missed INTEGER NOT NULL DEFAULT 0,
    civil_disorder INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (game, nation)
);
CREATE TABLE IF NOT EXISTS orders (
    game TEXT NOT NULL REFERENCES games(id),
    phase TEXT NOT NULL,
    nation TEXT NOT NULL,
    text TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    submitted INTEGER NOT NULL,
    PRIMARY KEY (game, phase, nation)
);
CREATE TABLE IF NOT EXISTS ready (
    game TEXT NOT NULL REFERENCES games(id),
    phase TEXT NOT NULL,
    nation TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (game, phase, nation)
);
CREATE TABLE IF NOT EXISTS pushes (
    game TEXT NOT NULL REFERENCES games(id),
    seq INTEGER NOT NULL,
    audience TEXT NOT NULL DEFAULT 'all',
    frame BLOB NOT NULL,
    PRIMARY KEY (game, seq)
);
CREATE TABLE IF NOT EXISTS phases (
    game TEXT NOT NULL REFERENCES games(id),
    idx INTEGER NOT NULL,
    phase TEXT NOT NULL,
    orders BLOB NOT NULL,
    results BLOB NOT NULL,
    digest TEXT NOT NULL,
    processed INTEGER NOT NULL,
    PRIMARY KEY (game, idx),
    UNIQUE (game, phase)
);

