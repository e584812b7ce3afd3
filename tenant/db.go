package tenant

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver
)

// PoolOptions bound every PostgreSQL pool Agora opens. Each connection caches
// catalog entries for every city it touches and never frees them, so both the
// size and the lifetime of connections matter.
type PoolOptions struct {
	MaxConns        int
	ConnMaxLifetime time.Duration
}

// OpenPool opens a pool whose connections start with an inert search_path
// (pg_catalog): an unqualified query that did not go through InTx finds no
// application table and fails loudly. Queries with parameters are sent in one
// round trip (lib/pq's binary_parameters: Parse, Bind and Execute together),
// which is why a []byte argument must only ever be bound to a bytea column.
func OpenPool(rawURL string, o PoolOptions) (*sqlx.DB, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	q := u.Query()
	q.Set("search_path", "pg_catalog")
	if q.Get("binary_parameters") == "" {
		q.Set("binary_parameters", "yes")
	}
	if q.Get("application_name") == "" {
		q.Set("application_name", "agora")
	}
	u.RawQuery = q.Encode()
	db, err := sqlx.Open("postgres", u.String())
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 16
	}
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = 10 * time.Minute
	}
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	db.SetConnMaxLifetime(o.ConnMaxLifetime)
	db.SetConnMaxIdleTime(o.ConnMaxLifetime / 2)
	return db, nil
}

// DB routes city work to the right shard and is the only door into a city's
// schema. The zero value is not usable; build it with NewDB.
type DB struct {
	platform *sqlx.DB
	shards   map[string]*sqlx.DB // "main" is the platform database
	limits   *cityLimits         // nil: wait for connections as long as ctx allows
}

// Limits bound how city work waits for database connections. The web server
// sets them so that no request hangs on a busy pool and no city holds every
// connection; background work waits as long as its context allows.
type Limits struct {
	// AcquireTimeout is the longest wait for a connection (the city's share,
	// then the pool); past it the door fails with ErrBusy.
	AcquireTimeout time.Duration
	// CityMaxConns caps the connections one city holds at once through this
	// DB, per shard pool. 0: no cap.
	CityMaxConns int
}

// ErrBusy is returned by the door when no connection could be had within
// Limits.AcquireTimeout: the city's share or the pool is in use. Callers
// answer it as "try again shortly" (HTTP 503), never as an internal error.
var ErrBusy = errors.New("database busy: no connection within the acquire timeout")

// cityLimits holds Limits and each city's share of connections.
type cityLimits struct {
	Limits
	mu    sync.Mutex
	slots map[ID]chan struct{}
}

// WithLimits returns a DB over the same pools whose city transactions wait
// for connections as l says. The receiver is unchanged.
func (db *DB) WithLimits(l Limits) *DB {
	out := *db
	out.limits = &cityLimits{Limits: l, slots: map[ID]chan struct{}{}}
	return &out
}

// slot returns the semaphore of city id, or nil when cities are not capped.
func (l *cityLimits) slot(id ID) chan struct{} {
	if l.CityMaxConns <= 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ch, ok := l.slots[id]
	if !ok {
		ch = make(chan struct{}, l.CityMaxConns)
		l.slots[id] = ch
	}
	return ch
}

// conn is a connection held for one city transaction; Close returns it to
// the pool and gives back the city's slot.
type conn struct {
	*sqlx.Conn
	slot chan struct{}
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	if c.slot != nil {
		<-c.slot
	}
	return err
}

// acquire takes a connection of t's shard for one transaction, within the
// DB's limits: the city's share first, then the pool, both within
// AcquireTimeout (ErrBusy past it). Without limits it waits as long as ctx.
func (db *DB) acquire(ctx context.Context, t *Tenant) (*conn, error) {
	pool, err := db.Shard(t.Shard)
	if err != nil {
		return nil, err
	}
	actx := ctx
	var slot chan struct{}
	if l := db.limits; l != nil {
		if l.AcquireTimeout > 0 {
			var cancel context.CancelFunc
			actx, cancel = context.WithTimeout(ctx, l.AcquireTimeout)
			defer cancel()
		}
		if slot = l.slot(t.ID); slot != nil {
			select {
			case slot <- struct{}{}:
			case <-actx.Done():
				return nil, busy(ctx, t, actx.Err())
			}
		}
	}
	c, err := pool.Connx(actx)
	if err != nil {
		if slot != nil {
			<-slot
		}
		if actx.Err() != nil {
			return nil, busy(ctx, t, err)
		}
		return nil, fmt.Errorf("city %s: connect: %w", t.Slug, err)
	}
	return &conn{Conn: c, slot: slot}, nil
}

// busy is the error of a wait for a connection that ended: ErrBusy when the
// acquire timeout passed, the caller's own cancellation otherwise.
func busy(ctx context.Context, t *Tenant, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("city %s: connect: %w", t.Slug, ctx.Err())
	}
	return fmt.Errorf("city %s: %w", t.Slug, ErrBusy)
}

// NewDB wraps the platform pool and any extra shard pools (by name).
func NewDB(platform *sqlx.DB, shards map[string]*sqlx.DB) *DB {
	all := map[string]*sqlx.DB{"main": platform}
	for name, p := range shards {
		all[name] = p
	}
	return &DB{platform: platform, shards: all}
}

// Platform returns the pool of the platform database. Queries on it must name
// their schema (platform.tenants).
func (db *DB) Platform() *sqlx.DB { return db.platform }

// Shard returns the pool of the named shard.
func (db *DB) Shard(name string) (*sqlx.DB, error) {
	if name == "" {
		name = "main"
	}
	p, ok := db.shards[name]
	if !ok {
		return nil, fmt.Errorf("shard %q is not configured (AGORA_SHARDS)", name)
	}
	return p, nil
}

// ShardNames lists the configured shards, "main" first.
func (db *DB) ShardNames() []string {
	names := make([]string, 0, len(db.shards))
	for n := range db.shards {
		if n != "main" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return append([]string{"main"}, names...)
}

// Close closes every pool.
func (db *DB) Close() error {
	var errs []error
	for _, p := range db.shards {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// InTx runs fn in a read-write transaction scoped to the city carried by ctx:
// the transaction's search_path is the city's schema and nothing else. fn's
// error (or panic) rolls back; otherwise the transaction commits. Without a
// city in ctx it returns ErrNoTenant and runs nothing.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	t, ok := FromContext(ctx)
	if !ok {
		return ErrNoTenant
	}
	// A request never holds two connections at once: the shared read
	// transaction, if open, ends first (a later read opens a fresh one that
	// sees this write).
	if sc := db.scopeOf(ctx, t); sc != nil {
		sc.end()
	}
	return db.run(ctx, t, t.beginSQL, fn)
}

// InReadTx is InTx for reads: the transaction is READ ONLY, so a write inside
// fails, and PostgreSQL can skip work it would do for a writer. Inside a
// ReadScope it runs in the scope's shared transaction.
func (db *DB) InReadTx(ctx context.Context, fn func(*Tx) error) error {
	t, ok := FromContext(ctx)
	if !ok {
		return ErrNoTenant
	}
	if sc := db.scopeOf(ctx, t); sc != nil {
		return sc.run(ctx, fn)
	}
	return db.run(ctx, t, t.beginReadSQL, fn)
}

// ReadScope returns a context in which every InReadTx for the city of ctx
// shares one read-only transaction, opened by the first of them, so a request
// that reads several times (its session, then its page) pays for the door
// once. The returned func ends the transaction; call it when the request is
// done. Without a city in ctx the scope does nothing.
func (db *DB) ReadScope(ctx context.Context) (context.Context, func()) {
	t, ok := FromContext(ctx)
	if !ok {
		return ctx, func() {}
	}
	sc := &readScope{db: db, t: t}
	return context.WithValue(ctx, scopeKey{}, sc), sc.end
}

type scopeKey struct{}

// readScope is one request's shared read transaction.
type readScope struct {
	mu   sync.Mutex
	db   *DB
	t    *Tenant
	conn *conn // nil until the first read, and after a read failed
}

func (db *DB) scopeOf(ctx context.Context, t *Tenant) *readScope {
	sc, ok := ctx.Value(scopeKey{}).(*readScope)
	if !ok || sc.db != db || sc.t.ID != t.ID {
		return nil
	}
	return sc
}

// run runs fn in the shared transaction, opening it if needed. A failed fn
// ends the transaction (it may be aborted); the next read opens a new one.
func (sc *readScope) run(ctx context.Context, fn func(*Tx) error) (err error) {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	if sc.conn == nil {
		conn, err := sc.db.acquire(ctx, sc.t)
		if err != nil {
			return err
		}
		counted(ctx, "BEGIN READ ONLY") // the shared transaction itself
		if _, err := conn.ExecContext(ctx, sc.t.beginReadSQL); err != nil {
			discard(conn.Conn, "ROLLBACK")
			conn.Close()
			return fmt.Errorf("city %s: begin: %w", sc.t.Slug, err)
		}
		sc.conn = conn
	}
	defer func() {
		if p := recover(); p != nil {
			sc.closeLocked(false)
			panic(p)
		}
	}()
	if err := fn(&Tx{conn: sc.conn.Conn, Tenant: sc.t}); err != nil {
		sc.closeLocked(false)
		return err
	}
	return nil
}

// end commits the shared transaction, if one is open, and returns its
// connection to the pool.
func (sc *readScope) end() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	sc.closeLocked(true)
}

func (sc *readScope) closeLocked(commit bool) {
	if sc.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !commit {
		discard(sc.conn.Conn, "ROLLBACK")
	} else if _, err := sc.conn.ExecContext(ctx, "COMMIT"); err != nil {
		discard(sc.conn.Conn, "ROLLBACK")
	}
	sc.conn.Close()
	sc.conn = nil
}

// Tx is a transaction scoped to one city. It satisfies sqlx.ExtContext, so a
// store function written against that interface runs on it unchanged.
type Tx struct {
	conn   *sqlx.Conn
	Tenant *Tenant
}

var _ sqlx.ExtContext = (*Tx)(nil)

// run opens one connection, begins and scopes the transaction in a single
// round trip (a simple-protocol query of two statements whose only value is
// the validated, quoted schema name), runs fn and ends the transaction. If
// the transaction cannot be ended cleanly the connection is discarded, never
// returned to the pool with a city's search_path still in force.
func (db *DB) run(ctx context.Context, t *Tenant, begin string, fn func(*Tx) error) (err error) {
	if t.beginSQL == "" {
		return fmt.Errorf("city %s was not loaded through the registry", t.Slug)
	}
	held, err := db.acquire(ctx, t)
	if err != nil {
		return err
	}
	defer held.Close()
	conn := held.Conn
	if begin == t.beginReadSQL { // the transaction itself
		counted(ctx, "BEGIN READ ONLY")
	} else {
		counted(ctx, "BEGIN")
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		discard(conn, "ROLLBACK")
		return fmt.Errorf("city %s: begin: %w", t.Slug, err)
	}
	tx := &Tx{conn: conn, Tenant: t}
	defer func() {
		if p := recover(); p != nil {
			discard(conn, "ROLLBACK")
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		discard(conn, "ROLLBACK")
		return err
	}
	// COMMIT runs even if ctx ended after fn returned: fn's work succeeded.
	if _, err := conn.ExecContext(context.WithoutCancel(ctx), "COMMIT"); err != nil {
		discard(conn, "ROLLBACK")
		return fmt.Errorf("city %s: commit: %w", t.Slug, err)
	}
	return nil
}

// discard ends whatever transaction is open on conn; if that fails, the
// connection is closed instead of going back to the pool.
func discard(conn *sqlx.Conn, stmt string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, stmt); err != nil {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// ExecContext executes a statement in the city's transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	counted(ctx, query)
	return tx.conn.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the city's transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	counted(ctx, query)
	return tx.conn.QueryContext(ctx, query, args...)
}

// QueryxContext runs a query in the city's transaction.
func (tx *Tx) QueryxContext(ctx context.Context, query string, args ...any) (*sqlx.Rows, error) {
	counted(ctx, query)
	return tx.conn.QueryxContext(ctx, query, args...)
}

// QueryRowxContext runs a single-row query in the city's transaction.
func (tx *Tx) QueryRowxContext(ctx context.Context, query string, args ...any) *sqlx.Row {
	counted(ctx, query)
	return tx.conn.QueryRowxContext(ctx, query, args...)
}

type countKey struct{}

// CountQueries returns a context under which every statement run through the
// door (and every transaction it opens) adds one to n. Tests use it to prove
// that a page costs a fixed number of queries whatever its size.
func CountQueries(ctx context.Context, n *atomic.Int64) context.Context {
	return context.WithValue(ctx, countKey{}, n)
}

// Trace records, in order, what the door ran for one context: "BEGIN" or
// "BEGIN READ ONLY" for each transaction it opened, then the text of each
// statement. Tests walk a request with it; it is safe for concurrent use.
type Trace struct {
	mu    sync.Mutex
	lines []string
}

// Lines returns what was recorded so far.
func (tr *Trace) Lines() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.lines...)
}

func (tr *Trace) add(line string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.lines = append(tr.lines, line)
}

type traceKey struct{}

// WithTrace returns a context under which the door records into tr.
func WithTrace(ctx context.Context, tr *Trace) context.Context {
	return context.WithValue(ctx, traceKey{}, tr)
}

// counted counts one statement (or transaction, begin: how it began) for
// CountQueries and WithTrace.
func counted(ctx context.Context, what string) {
	if n, ok := ctx.Value(countKey{}).(*atomic.Int64); ok {
		n.Add(1)
	}
	if tr, ok := ctx.Value(traceKey{}).(*Trace); ok {
		tr.add(what)
	}
}

// GetContext scans one row into dest.
func (tx *Tx) GetContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.GetContext(ctx, tx, dest, query, args...)
}

// SelectContext scans all rows into dest.
func (tx *Tx) SelectContext(ctx context.Context, dest any, query string, args ...any) error {
	return sqlx.SelectContext(ctx, tx, dest, query, args...)
}

// DriverName, Rebind and BindNamed complete sqlx.ExtContext.
func (tx *Tx) DriverName() string         { return "postgres" }
func (tx *Tx) Rebind(query string) string { return sqlx.Rebind(sqlx.DOLLAR, query) }
func (tx *Tx) BindNamed(q string, a any) (string, []any, error) {
	return sqlx.BindNamed(sqlx.DOLLAR, q, a)
}

// Lock takes a transaction-level advisory lock named name for the
// transaction's city alone: two cities never wait on each other's lock,
// whatever the name. Use it to queue writers that check a limit first
// (seats, one export at a time).
func (tx *Tx) Lock(ctx context.Context, name string) error {
	// A 64-bit hash of the name, seeded with the city's id.
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, $2))`, name, int64(tx.Tenant.ID))
	return err
}
