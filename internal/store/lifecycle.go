package store

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/ferryvm/ferry/api"
	"github.com/ferryvm/ferry/internal/wasm"
)

// Lifetimes (docs/api.md, "Closing frees; calls finish first").
//
// Funcref values are store-wide integers that tables, globals and running
// frames hold without the store knowing where, so an instance's functions
// cannot simply vanish when it is closed. Instances that can hold each
// other's references form a group: the sharers of a table or a global, and
// an importer and the exporter of a WebAssembly function that can store
// the references it is passed (the exporter has a table or a
// reference-typed global). A group's resources are released only once
// every member is closed and no other group holds one of them. Any other
// exporter is held by its importers' group: it lives while they do, but a
// long-lived exporter does not keep its short-lived importers alive.
//
// Calls are admitted by domain, a coarser partition: instances whose calls
// may run on the same WebAssembly state (every import but that of a host
// function ties a domain) run one call at a time (Enter). One WASI module
// shared by many programs therefore neither chains their lifetimes nor
// serialises their calls.
//
// A reference that escaped to the host and came back into an unrelated
// instance is not tracked: once its function's group is released it names
// nothing (its slot's generation moved on) and call_indirect traps.
// Releasing therefore happens in two steps. When a group dies its
// references stop resolving and it is stamped with the current epoch; its
// memories are unmapped and its slots reused only once every call that was
// running at that epoch, anywhere in the store, has returned, because such
// a call may be executing the group's code through an escaped reference.

// instLife is an instance's part of the bookkeeping, guarded by the
// store's lifecycle mutex.
type instLife struct {
	grp *group
	dom *domain
	// calls counts the calls running with this instance as their root
	// (see Enter); Close aborts them.
	calls int
	// armers is the lowered code this instance registered with the store
	// (released with the instance).
	armers []Armer
}

// group is a set of instances whose lifetimes are tied together.
type group struct {
	parent  *group // non-nil once merged into another group
	members []*Instance
	open    int // members not yet closed
	held    int // holds by other groups on members
	// holds are the instances of other groups that this group keeps alive.
	holds []*Instance
	dead  bool // no new reference resolves to a member
}

// domain is a set of instances whose calls may run on the same state, so
// that only one of them runs at a time. Domains only ever merge; a domain
// is garbage once its instances are.
type domain struct {
	parent *domain
	calls  int // calls running with an instance of the domain as their root
}

func (d *domain) root() *domain {
	for d.parent != nil {
		if d.parent.parent != nil {
			d.parent = d.parent.parent
		}
		d = d.parent
	}
	return d
}

// domainOf returns the root of inst's domain, making one for an instance
// that has none yet. Called with the lifecycle mutex held.
func domainOf(inst *Instance) *domain {
	if inst.life.dom == nil {
		inst.life.dom = &domain{}
	}
	return inst.life.dom.root()
}

// storeLife is the store's part of the bookkeeping.
type storeLife struct {
	mu    sync.Mutex
	epoch uint64
	// active counts the running calls by the epoch they entered at, in
	// increasing epoch order (a call enters at the latest epoch), without
	// zero counts at the front.
	active []epochCount
	// retired are dead groups waiting for the calls that may still run
	// their code, in increasing epoch order.
	retired []retiredGroup
}

type epochCount struct {
	epoch uint64
	n     int
}

type retiredGroup struct {
	g     *group
	epoch uint64
}

func (g *group) root() *group {
	for g.parent != nil {
		if g.parent.parent != nil {
			g.parent = g.parent.parent
		}
		g = g.parent
	}
	return g
}

// groupOf returns the root of inst's group, making a group of its own for
// an instance that has none yet. Called with the lifecycle mutex held.
func groupOf(inst *Instance) *group {
	if inst.life.grp == nil {
		inst.life.grp = &group{members: []*Instance{inst}, open: 1}
	}
	return inst.life.grp.root()
}

// storesRefs reports whether inst has somewhere to keep a funcref beyond
// one call: a table or a reference-typed global.
func storesRefs(inst *Instance) bool {
	if len(inst.Tables) > 0 {
		return true
	}
	for _, g := range inst.Globals {
		if g.Type.Type == wasm.FuncRef || g.Type.Type == wasm.ExternRef {
			return true
		}
	}
	return false
}

// link ties inst, which imports an extern of kind k from owner, to owner:
// one group when they can hold each other's references, else a hold of
// inst's group on owner; one domain unless the import is a host function
// (hostFunc), whose code is Go and touches no WebAssembly state. It
// reports false when owner is closed: what it exports may be released
// any time.
func (s *Store) link(inst, owner *Instance, k wasm.ExternKind, hostFunc bool) bool {
	if owner == nil || owner == inst || owner.Store != s {
		return true
	}
	s.life.mu.Lock()
	defer s.life.mu.Unlock()
	if owner.closed.Load() {
		return false
	}
	if !hostFunc {
		if da, db := domainOf(inst), domainOf(owner); da != db {
			db.parent = da
			da.calls += db.calls
		}
	}
	a, b := groupOf(inst), groupOf(owner)
	if a == b {
		return true
	}
	if k == wasm.ExternTable || k == wasm.ExternGlobal || (k == wasm.ExternFunc && !hostFunc && storesRefs(owner)) {
		merge(a, b)
		return true
	}
	for _, h := range a.holds {
		if h == owner {
			return true
		}
	}
	a.holds = append(a.holds, owner)
	b.held++
	return true
}

// merge makes b part of a.
func merge(a, b *group) {
	b.parent = a
	a.members = append(a.members, b.members...)
	a.open += b.open
	a.held += b.held
	a.holds = append(a.holds, b.holds...)
	b.members, b.holds = nil, nil
	// A hold on what is now a member is no hold.
	kept := a.holds[:0]
	for _, h := range a.holds {
		if groupOf(h) == a {
			a.held--
			continue
		}
		kept = append(kept, h)
	}
	clear(a.holds[len(kept):])
	a.holds = kept
}

// runKey is the context key of the instances whose calls a host function
// runs within (see WithRunning).
type runKey struct{}

// running is the chain of instances a host function's call runs within,
// innermost first.
type running struct {
	inst  *Instance
	outer *running
}

// WithRunning marks ctx, which a tier gives the host functions called by
// a call rooted at inst, so that a call they make back into inst's group
// (or into the group of any call this one is nested in) is recognised as
// re-entry by Enter rather than refused as busy.
func WithRunning(ctx context.Context, inst *Instance) context.Context {
	outer, _ := ctx.Value(runKey{}).(*running)
	return context.WithValue(ctx, runKey{}, &running{inst: inst, outer: outer})
}

// Entry is a call admitted by Enter; Leave ends it.
type Entry struct {
	inst  *Instance
	epoch uint64
}

// Enter admits a call rooted at inst, to be ended by Leave once the engine
// has returned. It refuses with api.ErrClosed once inst is closed, and
// with api.ErrBusy while another call runs in inst's domain, unless ctx
// descends from a context that call (or a call it is nested in) gave its
// host functions (WithRunning): calls from a host function back into the
// instances that called it nest.
func (i *Instance) Enter(ctx context.Context) (Entry, error) {
	l := &i.Store.life
	l.mu.Lock()
	defer l.mu.Unlock()
	if i.closed.Load() {
		return Entry{}, api.ErrClosed
	}
	d := domainOf(i)
	if d.calls > 0 && !nestedIn(ctx, d) {
		return Entry{}, api.ErrBusy
	}
	d.calls++
	i.life.calls++
	if n := len(l.active); n > 0 && l.active[n-1].epoch == l.epoch {
		l.active[n-1].n++
	} else {
		l.active = append(l.active, epochCount{epoch: l.epoch, n: 1})
	}
	return Entry{inst: i, epoch: l.epoch}, nil
}

// nestedIn reports whether ctx comes from a host function of a call
// running in d. Called with the lifecycle mutex held.
func nestedIn(ctx context.Context, d *domain) bool {
	r, _ := ctx.Value(runKey{}).(*running)
	for ; r != nil; r = r.outer {
		if r.inst.life.dom != nil && r.inst.life.dom.root() == d {
			return true
		}
	}
	return false
}

// Leave ends a call admitted by Enter. The last call to leave a closed
// instance clears its interrupts, and the last call of an epoch releases
// the groups that died meanwhile.
func (e Entry) Leave() {
	i := e.inst
	if i == nil {
		return
	}
	l := &i.Store.life
	l.mu.Lock()
	domainOf(i).calls--
	i.life.calls--
	quiet := i.life.calls == 0 && i.closed.Load()
	for k := range l.active {
		if l.active[k].epoch == e.epoch {
			l.active[k].n--
			break
		}
	}
	done := 0
	for done < len(l.active) && l.active[done].n == 0 {
		done++
	}
	if done > 0 { // moved down rather than resliced, to keep the array
		l.active = l.active[:copy(l.active, l.active[done:])]
	}
	free := i.Store.reapLocked()
	l.mu.Unlock()
	if quiet {
		i.ClearInterrupt(^uint32(0))
	}
	releaseGroups(free)
}

// Close closes the instance: new calls are refused, calls running with it
// as their root are aborted (they return a trap of kind api.ErrClosed,
// and a host function they are blocked in sees its context cancelled with
// that cause). Its memories, tables and functions are released once every
// instance of its group is closed, no other group holds it, and every call
// that might run its code has returned; an importer of its memory keeps
// that memory mapped meanwhile. Close never waits for a call. It is
// idempotent.
func (i *Instance) Close() {
	l := &i.Store.life
	l.mu.Lock()
	if i.closed.Load() {
		l.mu.Unlock()
		return
	}
	g := groupOf(i)
	i.closed.Store(true)
	g.open--
	if i.life.calls > 0 {
		// Under the lock, so that the last call's Leave, which clears the
		// interrupts, cannot come between.
		i.abortOnce(api.ErrClosed)
	} else {
		// A pending pause or an abort would keep the store's code armed.
		i.ClearInterrupt(^uint32(0))
	}
	i.Store.retireLocked(g)
	free := i.Store.reapLocked()
	l.mu.Unlock()
	releaseGroups(free)
}

// retireLocked kills g if nothing keeps it alive any more: its references
// stop resolving at once, and it waits in the retired list for the calls
// that may still run its code (reapLocked).
func (s *Store) retireLocked(g *group) {
	if g.dead || g.open > 0 || g.held > 0 {
		return
	}
	g.dead = true
	for _, inst := range g.members {
		s.unpublish(inst)
	}
	l := &s.life
	l.retired = append(l.retired, retiredGroup{g: g, epoch: l.epoch})
	l.epoch++
}

// reapLocked removes from the retired list the groups no running call can
// reach: every call that entered at or before their epoch has returned.
func (s *Store) reapLocked() []*group {
	l := &s.life
	if len(l.retired) == 0 {
		return nil
	}
	// The front of active is the oldest epoch with a running call.
	oldest, any := uint64(0), len(l.active) > 0
	if any {
		oldest = l.active[0].epoch
	}
	var free []*group
	for len(l.retired) > 0 && (!any || l.retired[0].epoch < oldest) {
		g := l.retired[0].g
		l.retired[0] = retiredGroup{}
		l.retired = l.retired[1:]
		free = append(free, g)
		// Its holds end now: a held group may die in turn, and is
		// released in this loop when no call is running.
		for _, h := range g.holds {
			hg := groupOf(h)
			hg.held--
			s.retireLocked(hg)
		}
		g.holds = nil
	}
	if len(l.retired) == 0 {
		l.retired = nil // let the backing array go
	}
	return free
}

// releaseGroups frees what the groups' members own: memories (unmapped when no
// importer holds them any more), function slots for reuse, and the store's
// arming of their code. The groups are out of every list: nothing else
// touches them.
func releaseGroups(gs []*group) {
	for _, g := range gs {
		for _, inst := range g.members {
			inst.releaseResources()
		}
	}
}

func (i *Instance) releaseResources() {
	for _, m := range i.Memories {
		if m != nil {
			m.release()
		}
	}
	i.releaseTables()
	i.ClearInterrupt(^uint32(0))
	s := i.Store
	s.freeSlots(i)
	for _, a := range i.life.armers {
		s.removeArmer(a)
	}
	i.life.armers = nil
}

// funcSlot is one entry of the function-reference space.
type funcSlot = atomic.Pointer[Function]
