package dev.weft.chaos.history;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;
import java.util.Objects;

/**
 * One client operation as the client saw it: what it asked, when (invoke and complete, in nanoseconds of one
 * monotonic clock shared by all clients of a run), and what came back.
 *
 * <p>Which fields are used depends on {@link Kind}:
 * <ul>
 *   <li>{@code READ} / {@code STALE_READ}: {@code value} is the value read ({@code null} = key absent),
 *       {@code modifyIndex} the entry's ModifyIndex (or the X-Consul-Index a watcher saw), if recorded.</li>
 *   <li>{@code WRITE}: {@code value} is the value written; {@code modifyIndex} the index it got, if the client
 *       learned it (a transaction's result).</li>
 *   <li>{@code CAS}: {@code value} is the new value. With {@code modifyIndex} set it is Consul's
 *       {@code ?cas=<modifyIndex>} (0 = only if absent) and {@code expected} is, for information, the value the
 *       client read together with that index; without it, it compares {@code expected} ({@code null} = absent).
 *       {@code applied} is the answer ({@code true}/{@code false}) when the outcome is OK.</li>
 *   <li>{@code ADD}: {@code value} is the element added to the set named {@code key}.</li>
 *   <li>{@code READ_ALL}: {@code values} are all elements of the set named {@code key}.</li>
 *   <li>{@code ACQUIRE} / {@code RELEASE}: the lock named {@code key}; {@code applied} tells whether an OK
 *       acquire got the lock.</li>
 * </ul>
 *
 * @param id            unique within a history (assigned by {@link History#invoke})
 * @param process       the client that issued it; a client has at most one operation in flight
 * @param member        the server the request was sent to (or through), {@code null} if not recorded
 * @param completeNanos when the client got the answer; for UNKNOWN, when it gave up (checkers treat an UNKNOWN
 *                      operation as never completing)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Operation(long id, int process, String member, Kind kind, String key, String value, String expected,
                        Long modifyIndex, Boolean applied, List<String> values, long invokeNanos,
                        long completeNanos, Outcome outcome) {

    public enum Kind { READ, STALE_READ, WRITE, CAS, ADD, READ_ALL, ACQUIRE, RELEASE }

    /**
     * OK: completed with an answer. FAIL: definitely did not take effect (refused before it could be proposed).
     * UNKNOWN: timed out or the connection broke; it may take effect at any time after its invoke, or never.
     */
    public enum Outcome { OK, FAIL, UNKNOWN }

    public Operation {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(outcome, "outcome");
        values = values == null ? null : List.copyOf(values);
        if (outcome != Outcome.UNKNOWN && completeNanos < invokeNanos) {
            throw new IllegalArgumentException("operation " + id + " completes before it is invoked");
        }
    }

    @JsonIgnore
    public boolean isOk() {
        return outcome == Outcome.OK;
    }

    @JsonIgnore
    public boolean isUnknown() {
        return outcome == Outcome.UNKNOWN;
    }

    /** The same operation with a different id (used when merging histories). */
    public Operation withId(long newId) {
        return new Operation(newId, process, member, kind, key, value, expected, modifyIndex, applied, values,
                invokeNanos, completeNanos, outcome);
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder().append('#').append(id).append(" p").append(process);
        if (member != null) {
            b.append('@').append(member);
        }
        b.append(' ').append(kind).append(' ').append(key);
        switch (kind) {
            case READ, STALE_READ -> {
                if (isOk()) {
                    b.append(" -> ").append(quote(value));
                    if (modifyIndex != null) {
                        b.append(" (index ").append(modifyIndex).append(')');
                    }
                }
            }
            case WRITE, ADD -> b.append(" := ").append(quote(value));
            case CAS -> {
                b.append(modifyIndex != null ? " if index " + modifyIndex : " if " + quote(expected));
                b.append(" := ").append(quote(value));
                if (isOk()) {
                    b.append(" -> ").append(applied);
                }
            }
            case READ_ALL -> {
                if (isOk()) {
                    b.append(" -> ").append(values);
                }
            }
            case ACQUIRE, RELEASE -> {
                if (isOk() && applied != null) {
                    b.append(" -> ").append(applied);
                }
            }
        }
        b.append(" [").append(invokeNanos).append("..");
        b.append(isUnknown() ? "?" : Long.toString(completeNanos)).append("] ").append(outcome);
        return b.toString();
    }

    private static String quote(String s) {
        return s == null ? "absent" : '"' + s + '"';
    }
}
