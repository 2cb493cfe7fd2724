package dev.weft.kvstore.state;

import java.util.List;

/** What applying a {@link Command} answers. A failed CAS or a refused lock is a normal result, not an error. */
public sealed interface Result {

    Bool TRUE = new Bool(true);
    Bool FALSE = new Bool(false);

    record Bool(boolean value) implements Result {
        public static Bool of(boolean b) {
            return b ? TRUE : FALSE;
        }
    }

    /** A session after create/renew; {@code session} is null when it no longer exists. */
    record SessionValue(Session session) implements Result {
    }

    /** A transaction's outcome: results when it committed, errors (and no change) when it rolled back. */
    record Txn(List<KvEntry> results, List<TxnError> errors) implements Result {
        public Txn {
            results = List.copyOf(results);
            errors = List.copyOf(errors);
        }

        public boolean committed() {
            return errors.isEmpty();
        }
    }

    /** A command that was refused at apply time for a reason a client can fix (for example an unknown session). */
    record Invalid(String message) implements Result {
    }

    /** One result per command of a {@link Command.Batch}, in order. */
    record Batch(List<Result> results) implements Result {
        public Batch {
            results = List.copyOf(results);
        }
    }

    record TxnError(int opIndex, String what) {
    }
}
