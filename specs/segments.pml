/*
 * The append-and-seal protocol of docs/segments.md, as a Promela model for spin.
 *
 * What is modelled: one session's tail object (`messages.json`: a version, a list of
 * message ids, the marker {epoch, start, prev}), its immutable segment objects keyed by
 * (epoch, start, end), writers that append their messages one by one with compare-and-swap,
 * the deterministic seal rule, crashes (a process stops for ever, at any step), lost
 * answers (a tail write that succeeded but whose writer believes it failed), a reader,
 * and optionally `clear` or the orphan sweeper. Every store request is one atomic step
 * (S3 is strongly consistent); what a process computes between two requests is local.
 * Message sizes are abstract: message m has size 1 + m % 2, and the segment budget is 3
 * or 4, so seals happen within a few appends. docs/segments.md ("Model checking") says
 * what is checked, with the numbers, and what is not modelled.
 *
 * Configurations (macros, see tests/spec/test_segments_model.py):
 *   NW, NM      writers, messages per writer (ids are 1..NW*NM, unique)
 *   NM_REST     messages of writers 1.. when fewer than NM (writer 0 appends NM)
 *   BUDGET      segment_bytes (default 4; 3 makes seals more frequent)
 *   READER      run a reader concurrently with the writers
 *   CLEAR       run one `clear` concurrently with the writers
 *   CLEAR_DELETE_TAIL  clear ends by deleting the empty tail it wrote
 *   SWEEP       run the orphan sweeper concurrently with the writers
 *   LOST        each writer may lose the answer of one successful tail write
 *   NOCRASH     no crashes (used to check that nothing dead is left behind)
 * Deliberate bugs, each must make spin report a violation:
 *   BUG_NONDETERMINISTIC_SEAL  the sealed prefix depends on the tail's length and on the
 *                              message being appended
 *   BUG_UNCONDITIONAL_TAIL     the tail is written without compare-and-swap
 *   BUG_READ_SEGMENTS_FIRST    the reader lists segments before reading the tail
 *   BUG_CLEAR_TAIL_FIRST       clear deletes the tail, then lists and deletes segments
 *   BUG_CLEAR_SPARE_LIVE       clear deletes the tail, reads it again, lists, and deletes
 *                              the segments not of the epoch it read (a first seal in
 *                              flight is not of it yet)
 *   BUG_DEDUP_NEWEST_ONLY      a retried append looks for its id in the tail and the
 *                              newest segment only (not at the position it was written to)
 *   BUG_DEDUP_TAIL_ONLY        a retried append looks for its id in the tail only
 *   BUG_SWEEP_UNFENCED         the sweeper deletes what is not of the tail's epoch without
 *                              first rewriting the tail conditionally
 */

#ifndef NW
#define NW 2
#endif
#ifndef NM
#define NM 2
#endif
#ifndef NM_REST
#define NM_REST NM      /* messages of writers 1.. (writer 0 appends NM) */
#endif
#define NMSG (NW * NM)  /* ids are w * NM + k + 1: room for NM per writer */
#define SIZE(m) (1 + (m) % 2)
#ifndef BUDGET
#define BUDGET 4        /* segment_bytes */
#endif
#define HALF (BUDGET / 2)   /* a seal moves the shortest prefix of at least HALF */
#define TCAP 6          /* tail capacity (asserted: the protocol keeps it under this) */
#define NSEG 5          /* segment slots (asserted) */
#define SCAP 4          /* messages per segment (asserted) */
#define HCAP 8          /* room for a history, duplicates included */
#define NONE 255

/* Coverage: -DCOVER=n turns "situation n never happens" into an assertion, so a run that
 * reports an error proves the model reaches it (the checks above are not vacuous):
 * 1 a second seal commits, 2 a retry finds its message sealed at the position it wrote,
 * 3 a writer deletes its dead segment, 4 a reader finishes a read that used segments while
 * a seal committed after its tail read, 5 a seal finds its segment already written by
 * another writer, 6 clear deletes a segment, 7 the sweeper deletes a segment. */
#ifdef COVER
#define COVERED(n) assert(COVER != n)
#else
#define COVERED(n) skip
#endif

#if defined(READER) && defined(CLEAR)
#error "a read concurrent with clear may fail (404): model the reader without CLEAR"
#endif

#ifdef NOCRASH
#define CRASH skip
#else
/* A process may stop for ever at any point: it just ends. Only what it wrote remains, so
 * stopping right before a read (GET, LIST) leaves the same store as stopping before the
 * write that preceded it: the crash points are placed before every write (PUT segment,
 * PUT tail, DELETE), which covers a crash at every step with fewer states. */
#define CRASH if :: skip :: goto done fi
#endif

typedef Tail {
    bool exists;
    byte ver;           /* S3's ETag: changes with every write (CAS on it) */
    byte epoch;         /* marker: 0 while nothing is sealed */
    byte start;         /* marker: positions 0..start are sealed */
    byte prev;          /* marker: the newest segment is (epoch, prev, start) */
    byte cnt;
    byte msg[TCAP]
};

typedef Seg {
    bool used;
    byte epoch;
    byte start;
    byte end;
    byte msg[SCAP]      /* end - start messages */
};

Tail tail;
Seg seg[NSEG];
byte next_ver = 0;
byte next_epoch = 0;    /* "16 random hex digits": what matters is that each is new */
byte nclears = 0;       /* clears that deleted the tail so far (clear's commit point) */
byte acked[NMSG + 1];   /* 0: not acknowledged; else 1 + nclears when it was */
byte hist[HCAP];        /* the final history, assembled once every process ended */
byte hist_len = 0;
byte seen[HCAP];        /* what the reader assembled */
byte seen_len = 0;
bool reader_ok = false; /* the reader finished a read */

inline copy_tail(dst, src) {
    dst.exists = src.exists; dst.ver = src.ver; dst.epoch = src.epoch;
    dst.start = src.start; dst.prev = src.prev; dst.cnt = src.cnt;
    for (ci : 0 .. TCAP - 1) { dst.msg[ci] = src.msg[ci] }
}

/* The segment with key (e, s, t), or NSEG when there is none (a GET that answers 404). */
inline find_seg(e, s, t, out) {
    out = NSEG;
    for (fx : 0 .. NSEG - 1) {
        if
        :: seg[fx].used && seg[fx].epoch == e && seg[fx].start == s && seg[fx].end == t -> out = fx
        :: else
        fi
    }
}

#define KEY(j) (seg[j].epoch * 256 + seg[j].start * 16 + seg[j].end)   /* S3's key order */

/* LIST: the keys of epoch e's segments starting before `below` (every epoch when e is 0),
 * in key order (epoch, start, end: the real keys' order, zero-padded decimals), into
 * the caller's ls/le/ee[0..n). */
inline list_segs(e, below) {
    n = 0; lk = 0;
    do
    :: true ->
        best = NSEG;
        for (li : 0 .. NSEG - 1) {
            if
            :: (seg[li].used && (e == 0 || seg[li].epoch == e) && seg[li].start < below
                && KEY(li) + 1 > lk
                && (best == NSEG || KEY(li) < KEY(best))) -> best = li
            :: else
            fi
        }
        if
        :: best == NSEG -> break
        :: else -> ls[n] = seg[best].start; le[n] = seg[best].end; ee[n] = seg[best].epoch; n++;
                   lk = KEY(best) + 1
        fi
    od;
    skip    /* `break` must not leave an enclosing d_step */
}

/* Append segment (epoch e, s, t)'s messages to hist[] (to_hist) or seen[]; it must exist
 * and begin at pos: a reader that finds a gap, an overlap or a 404 raises CorruptDataError. */
inline read_seg(e, s, t, to_hist, pos) {
    find_seg(e, s, t, rs);
    assert(rs < NSEG);              /* a segment the tail names was deleted */
    assert(s == pos);               /* segments of the live epoch are contiguous */
    for (ri : 0 .. t - s - 1) {
        if
        :: to_hist -> hist[hist_len] = seg[rs].msg[ri]; hist_len++
        :: else -> seen[seen_len] = seg[rs].msg[ri]; seen_len++
        fi
    }
    pos = t
}

/* The writer returns success: at its successful tail write, or after the tail read that
 * showed its message already stored (a retry; rc = the clears before that read). A clear
 * after that point may remove the message, a clear before it may not. */
#define ACK acked[m] = 1 + rc; printf("W%d m%d: ACK\n", w, m)
#define ACK_IF_FOUND if :: found -> ACK :: else fi

proctype writer(byte w) {
    Tail T;             /* this writer's view of the tail: read, or its cached last write */
    byte k = 0, m, i, p, sz, e, slot, ci, fx, at;
    bool ok, cached = false, lost = false, sealed = false, found;
    byte pe, ps, pt;    /* the segment this writer wrote and has not seen committed */
    byte qe, qs, qt, rc;

next:
    if
    :: k == NM || (w > 0 && k == NM_REST) -> goto done
    :: else
    fi;
    m = w * NM + k + 1;
    at = NONE;
    /* A warm append starts from the tail this writer last wrote (its cache); a stale
     * cache only costs a failed compare-and-swap. */
    if
    :: cached -> goto decide
    :: true
    fi;

reread:
    skip;   /* (no crash point before a read: see CRASH) */
    d_step { copy_tail(T, tail); found = false; rc = nclears; printf("W%d m%d: GET tail v%d e%d start %d n %d\n", w, m, T.ver, T.epoch, T.start, T.cnt);
             for (i : 0 .. TCAP - 1) { if :: i < T.cnt && T.msg[i] == m -> found = true :: else fi };
             ACK_IF_FOUND }
    /* A segment this writer wrote for a tail write that lost, in an epoch that is not the
     * tail's any more, is dead for ever (epochs are never reused): remove it. */
    if
    :: sealed && (!T.exists || T.epoch != pe) ->
        CRASH;
        d_step { find_seg(pe, ps, pt, slot); printf("W%d: DELETE dead seg %d-%d-%d\n", w, pe, ps, pt);
                 if :: slot < NSEG -> seg[slot].used = false; COVERED(3) :: else fi }
    :: else
    fi;
    sealed = false; pe = 0; ps = 0; pt = 0;
    if
    :: found -> goto ack        /* a retried append: the message is already stored */
    :: else
    fi;
#if defined(BUG_DEDUP_TAIL_ONLY)
    /* A retry looks for its message in the tail only. */
#elif defined(BUG_DEDUP_NEWEST_ONLY)
    /* The id is looked for in the newest segment too (one GET). */
    if
    :: at != NONE && T.epoch != 0 ->
        /* (no crash point before a read: see CRASH) */
        d_step { qe = T.epoch; qs = T.prev; qt = T.start; find_seg(qe, qs, qt, slot);
                 if
                 :: slot < NSEG ->
                    for (i : 0 .. SCAP - 1) {
                        if :: i < T.start - T.prev && seg[slot].msg[i] == m -> found = true :: else fi }
                 :: else
                 fi;
                 ACK_IF_FOUND }
        if
        :: found -> goto ack
        :: else
        fi
    :: else
    fi;
#else
    /* A retry after a lost answer knows the position `at` its message was written to:
     * positions never change within an epoch, so the message is stored iff it is there.
     * When `at` is sealed, read the segment holding it (a LIST and a GET). */
    if
    :: at != NONE && at < T.start ->
        /* (no crash point before a read: see CRASH) */
        d_step { for (i : 0 .. NSEG - 1) {
                     if
                     :: (seg[i].used && seg[i].epoch == T.epoch && seg[i].start <= at
                         && at < seg[i].end && seg[i].end <= T.start
                         && seg[i].msg[at - seg[i].start] == m) -> found = true; COVERED(2)
                     :: else
                     fi };
                 ACK_IF_FOUND }
        if
        :: found -> goto ack
        :: else
        fi
    :: else
    fi;
#endif

decide:
    skip;
    /* p: how many of T's first messages to seal (0: none), e: the epoch of the new tail */
    d_step {
        sz = 0; p = 0;
        for (i : 0 .. TCAP - 1) { if :: i < T.cnt -> sz = sz + SIZE(T.msg[i]) :: else fi };
        if
        :: sz + SIZE(m) <= BUDGET || sz < HALF -> skip   /* fits, or too small to seal */
        :: else ->
            /* Seal P, the shortest prefix of T of at least HALF: it depends on T's first
             * messages only, so every writer sealing at this start writes the same object. */
            sz = 0;
#ifdef BUG_NONDETERMINISTIC_SEAL
            /* a plausible "optimisation": seal enough that the new tail holds at most HALF
             * (so it depends on T's length and on m: writers sealing at one start differ) */
            for (i : 0 .. TCAP - 1) { if :: i < T.cnt -> sz = sz + SIZE(T.msg[i]) :: else fi };
            sz = sz + SIZE(m);
            do :: sz > HALF && p < T.cnt -> sz = sz - SIZE(T.msg[p]); p++ :: else -> break od;
#else
            do :: sz < HALF -> sz = sz + SIZE(T.msg[p]); p++ :: else -> break od;
#endif
            assert(p <= SCAP);
            if
            :: T.epoch == 0 -> next_epoch++; e = next_epoch      /* the first seal: a new epoch */
            :: else -> e = T.epoch
            fi
        fi;
        sz = 0
    }
    if
    :: p > 0 ->
        CRASH;
        /* PUT segment (e, start, start + p), create-if-absent. Found: same messages. */
        d_step {
            ps = T.start; pt = T.start + p;
            find_seg(e, ps, pt, slot);
            if
            :: slot < NSEG ->
                for (i : 0 .. p - 1) { assert(seg[slot].msg[i] == T.msg[i]) }; COVERED(5)
            :: else ->
                slot = 0;
                do :: slot < NSEG && seg[slot].used -> slot++ :: else -> break od;
                assert(slot < NSEG);
                seg[slot].used = true; seg[slot].epoch = e;
                seg[slot].start = ps; seg[slot].end = pt;
                for (i : 0 .. SCAP - 1) { if :: i < p -> seg[slot].msg[i] = T.msg[i] :: else -> seg[slot].msg[i] = 0 fi }
            fi;
            slot = 0; sealed = true; pe = e;
            printf("W%d m%d: PUT seg %d-%d-%d\n", w, m, e, ps, pt)
        }
    :: else
    fi;

    CRASH;
    /* PUT tail: IfMatch on the version read, IfNoneMatch * when there was none. The new
     * tail is T without its first p messages, plus m, with the marker when p > 0. The
     * tail write is the commit point: the message is acknowledged when it succeeds. */
    atomic {
#ifdef BUG_UNCONDITIONAL_TAIL
        ok = true;
#else
        ok = (tail.exists == T.exists && (!T.exists || tail.ver == T.ver));
#endif
        if
        :: ok ->
            next_ver++; tail.ver = next_ver; tail.exists = true;
            if
            :: p > 0 -> tail.epoch = e; tail.prev = T.start; tail.start = T.start + p
            :: else -> tail.epoch = T.epoch; tail.prev = T.prev; tail.start = T.start
            fi;
            tail.cnt = T.cnt - p;
            for (i : 0 .. TCAP - 1) { if :: i < tail.cnt -> tail.msg[i] = T.msg[i + p] :: else -> tail.msg[i] = 0 fi };
            assert(tail.cnt < TCAP); tail.msg[tail.cnt] = m; tail.cnt++;
            printf("W%d m%d: PUT tail ok v%d e%d start %d n %d\n", w, m, tail.ver, tail.epoch, tail.start, tail.cnt);
            at = tail.start + tail.cnt - 1;     /* where m now is, for ever (in this epoch) */
            if :: tail.prev > 0 -> COVERED(1) :: else fi;
            sealed = false; p = 0; e = 0;
            if
#ifdef LOST
            :: !lost -> lost = true; cached = false; goto reread   /* the answer is lost */
#endif
            :: true -> copy_tail(T, tail); cached = true; rc = nclears; ACK; goto ack
            fi
        :: else -> printf("W%d m%d: PUT tail 412\n", w, m); p = 0; e = 0; cached = false; goto reread
        fi
    }

ack:
    k++; found = false; rc = 0;
    goto next;

done:
    skip
}

proctype reader() {
    Tail R;
    short lk;
    byte ls[NSEG], le[NSEG], ee[NSEG], n, best, li, i, pos, rs, ri, fx, ci, re, rst, ren;
#ifdef BUG_READ_SEGMENTS_FIRST
    d_step { list_segs(0, 255) }
    d_step { copy_tail(R, tail) }
#else
    /* GET the tail first: the segments it names are immutable, so they are all still
     * there when listed and read afterwards (and later seals are simply not seen). */
    d_step { copy_tail(R, tail) }
    if
    :: R.epoch != 0 -> d_step { re = R.epoch; rst = R.start; list_segs(re, rst) }
    :: else -> n = 0
    fi;
#endif
    pos = 0;
    for (i : 0 .. NSEG - 1) {
        if
        :: i < n && ee[i] == R.epoch && ls[i] < R.start ->
            d_step { re = R.epoch; rst = ls[i]; ren = le[i]; read_seg(re, rst, ren, false, pos) }   /* GET */
        :: else
        fi
    }
    assert(pos == R.start);         /* no gap before the tail */
    d_step { for (i : 0 .. TCAP - 1) { if :: i < R.cnt -> seen[seen_len] = R.msg[i]; seen_len++ :: else fi } }
    reader_ok = true;
    if :: R.start > 0 && tail.start > R.start -> COVERED(4) :: else fi
}

#ifdef CLEAR
/* clear(id): GET the tail (version v), LIST the segments, then PUT an empty tail `[]`
 * conditionally on v (on 412: start over), then DELETE what was listed. The conditional
 * write is clear's commit point and fences every writer that read the tail before it:
 * their tail writes fail, so each listed segment is dead (its epoch can never be named
 * again), and a segment written after the listing by such a writer is deleted by that
 * writer when it reads the tail again. A segment of the session's next life is written
 * after the empty tail, hence after the listing: it is never listed, never deleted. */
#ifdef BUG_CLEAR_SPARE_LIVE
#define SPARED(j) (C.exists && C.epoch != 0 && ee[j] == C.epoch)   /* the epoch it read */
#else
#define SPARED(j) false
#endif
proctype clearer() {
    Tail C;
    short lk;
    byte ls[NSEG], le[NSEG], ee[NSEG], n, best, li, i, slot, fx, ci, re, rst, ren;
    bool ok;
#if defined(BUG_CLEAR_TAIL_FIRST) || defined(BUG_CLEAR_SPARE_LIVE)
    /* DELETE the tail, then LIST and DELETE every segment (a new life's too) */
    CRASH;
    d_step { tail.exists = false; tail.cnt = 0; tail.epoch = 0; tail.start = 0; tail.prev = 0;
             for (i : 0 .. TCAP - 1) { tail.msg[i] = 0 }; nclears++; printf("clear: DELETE tail\n") }
#ifdef BUG_CLEAR_SPARE_LIVE
    /* GET the tail again: segments of its epoch are live and stay */
    d_step { copy_tail(C, tail); printf("clear: GET tail e%d\n", C.epoch) }
#endif
    /* (no crash point before a read: see CRASH) */
    d_step { list_segs(0, 255); printf("clear: LIST %d segments\n", n) }
#else
again:
    skip;   /* (no crash point before a read: see CRASH) */
    d_step { copy_tail(C, tail); printf("clear: GET tail v%d\n", C.ver) }
    /* (no crash point before a read: see CRASH) */
    d_step { list_segs(0, 255); printf("clear: LIST %d segments\n", n) }
    CRASH;
    d_step {
        ok = (tail.exists == C.exists && (!C.exists || tail.ver == C.ver));
        if
        :: ok -> next_ver++; tail.ver = next_ver; tail.exists = true; tail.cnt = 0;
                 tail.epoch = 0; tail.start = 0; tail.prev = 0;
                 for (i : 0 .. TCAP - 1) { tail.msg[i] = 0 }; nclears++;
                 printf("clear: PUT tail [] ok v%d\n", tail.ver)
        :: else -> printf("clear: PUT tail [] 412\n")
        fi
    }
    if
    :: !ok -> goto again
    :: else
    fi;
#endif
    for (i : 0 .. NSEG - 1) {
        if
        :: i < n && !SPARED(i) ->
            CRASH;
            d_step { re = ee[i]; rst = ls[i]; ren = le[i]; find_seg(re, rst, ren, slot);
                     printf("clear: DELETE seg %d-%d-%d\n", re, rst, ren);
                     if :: slot < NSEG -> seg[slot].used = false; COVERED(6) :: else fi }
        :: else
        fi
    };
#ifdef CLEAR_DELETE_TAIL
    /* Then DELETE the empty tail too (unconditionally: S3 has no portable conditional
     * DELETE). Appends that landed on `[]` meanwhile are cleared with it (a second
     * commit point); a seal among them leaves a dead segment behind, never a loss. */
    CRASH;
    d_step { tail.exists = false; tail.cnt = 0; tail.epoch = 0; tail.start = 0; tail.prev = 0;
             for (i : 0 .. TCAP - 1) { tail.msg[i] = 0 }; nclears++; printf("clear: DELETE tail\n") }
#endif
done:
    skip
}
#endif

#ifdef SWEEP
/* The orphan sweeper (remove_dead_segments): delete the segments whose epoch is not the
 * tail's. GET the tail (version v), LIST, then rewrite the tail unchanged conditionally
 * on v (on 412: start over) before deleting: a writer between its first seal's segment
 * write and its tail write read a version before v, so its tail write fails and the
 * segment is dead indeed. Without that fence (BUG_SWEEP_UNFENCED) the sweeper deletes a
 * first seal in flight, whose tail write then commits. */
proctype sweeper() {
    Tail C;
    short lk;
    byte ls[NSEG], le[NSEG], ee[NSEG], n, best, li, i, slot, fx, ci, re, rst, ren;
    bool ok;
again:
    skip;   /* (no crash point before a read: see CRASH) */
    d_step { copy_tail(C, tail); printf("sweep: GET tail v%d e%d\n", C.ver, C.epoch) }
    d_step { list_segs(0, 255); printf("sweep: LIST %d segments\n", n) }
#ifndef BUG_SWEEP_UNFENCED
    CRASH;
    d_step {
        ok = (tail.exists == C.exists && (!C.exists || tail.ver == C.ver));
        if
        :: ok && C.exists -> next_ver++; tail.ver = next_ver; printf("sweep: PUT tail (same) ok v%d\n", tail.ver)
        :: ok && !C.exists -> skip   /* no tail: nothing was ever sealed in a live epoch */
        :: else -> printf("sweep: PUT tail (same) 412\n")
        fi
    }
    if
    :: !ok -> goto again
    :: else
    fi;
#endif
    for (i : 0 .. NSEG - 1) {
        if
        :: i < n && !(C.exists && ee[i] == C.epoch) ->
            CRASH;
            d_step { re = ee[i]; rst = ls[i]; ren = le[i]; find_seg(re, rst, ren, slot);
                     printf("sweep: DELETE seg %d-%d-%d\n", re, rst, ren);
                     if :: slot < NSEG -> seg[slot].used = false; COVERED(7) :: else fi }
        :: else
        fi
    };
done:
    skip
}
#endif

init {
    short lk;
    byte m, i, j, c, last, pos, rs, ri, fx, n, best, li, re, rst, ren;
    byte ls[NSEG], le[NSEG], ee[NSEG];
    atomic {
        for (i : 0 .. NW - 1) { run writer(i) }
#ifdef READER
        run reader();
#endif
#ifdef CLEAR
        run clearer();
#endif
#ifdef SWEEP
        run sweeper();
#endif
    }
    (_nr_pr == 1);      /* every other process ended (or crashed) */

    /* Assemble the final history as a reader would, then check it. */
    d_step {
        pos = 0;
        if
        :: tail.exists && tail.epoch != 0 -> re = tail.epoch; rst = tail.start; list_segs(re, rst);
            for (i : 0 .. NSEG - 1) {
                if :: i < n -> rst = ls[i]; ren = le[i]; read_seg(re, rst, ren, true, pos) :: else fi }
        :: else
        fi;
        assert(pos == tail.start);
        for (i : 0 .. TCAP - 1) { if :: tail.exists && i < tail.cnt -> hist[hist_len] = tail.msg[i]; hist_len++ :: else fi }
    }
    d_step {
        for (m : 1 .. NMSG) {
            c = 0;
            for (i : 0 .. HCAP - 1) { if :: i < hist_len && hist[i] == m -> c++ :: else fi }
            assert(c <= 1);                                 /* no message twice */
            assert(acked[m] != 1 + nclears || c == 1)       /* acknowledged (since the last clear): kept */
        }
        /* each writer's messages in the order it appended them */
        for (j : 0 .. NW - 1) {
            last = 0;
            for (i : 0 .. HCAP - 1) {
                if
                :: i < hist_len && (hist[i] - 1) / NM == j -> assert(hist[i] > last); last = hist[i]
                :: else
                fi
            }
        }
#ifndef CLEAR
        /* the reader saw a prefix of the history (so every message at most once) */
        if
        :: reader_ok ->
            assert(seen_len <= hist_len);
            for (i : 0 .. HCAP - 1) { if :: i < seen_len -> assert(seen[i] == hist[i]) :: else fi }
        :: else
        fi;
#endif
#ifdef NOCRASH
        /* without crashes nothing dead is left behind: every segment is of the live epoch */
        for (i : 0 .. NSEG - 1) { assert(!seg[i].used || (tail.exists && seg[i].epoch == tail.epoch)) }
#endif
    }
}
