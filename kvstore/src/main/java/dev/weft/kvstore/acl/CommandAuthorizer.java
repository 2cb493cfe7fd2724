package dev.weft.kvstore.acl;

import dev.weft.kvstore.state.CatalogCheck;
import dev.weft.kvstore.state.CatalogService;
import dev.weft.kvstore.state.CatalogView;
import dev.weft.kvstore.state.Command;
import dev.weft.kvstore.state.KvReadView;
import dev.weft.kvstore.state.Session;
import dev.weft.kvstore.state.TxnOp;

/**
 * The one place that decides which permission each {@link Command} needs. Used by the HTTP API before it
 * proposes, by the servers' {@code /v1/internal/apply} for commands forwarded by client agents, and around the
 * agent's own writers (registrator, network plugin) with the agent token. Pure: reads the state only to find
 * the node of a session or the service of a check.
 */
public final class CommandAuthorizer {
    private CommandAuthorizer() {
    }

    /** @return null when allowed, else what is missing (for the log; clients get "Permission denied") */
    public static String denied(Authorizer a, Command command, KvReadView view) {
        if (a.isManagement()) {
            return null;
        }
        if (command instanceof Command.KvSet c) {
            return key(a, c.key());
        } else if (command instanceof Command.KvDelete c) {
            return c.recurse() ? (a.writeUnder(Resource.KEY, c.key()) ? null : "key_prefix \"" + c.key() + "\" write")
                    : key(a, c.key());
        } else if (command instanceof Command.KvAcquire c) {
            return firstOf(key(a, c.key()), sessionOf(a, view, c.session(), false));
        } else if (command instanceof Command.KvRelease c) {
            return key(a, c.key());
        } else if (command instanceof Command.Txn c) {
            for (TxnOp op : c.ops()) {
                String d = txnOp(a, op);
                if (d != null) {
                    return d;
                }
            }
            return null;
        } else if (command instanceof Command.SessionCreate c) {
            return a.write(Resource.SESSION, c.node()) ? null : "session \"" + c.node() + "\" write";
        } else if (command instanceof Command.SessionRenew c) {
            return sessionOf(a, view, c.id(), true);
        } else if (command instanceof Command.SessionDestroy c) {
            return sessionOf(a, view, c.id(), true);
        } else if (command instanceof Command.CatalogRegister c) {
            return register(a, c, view.catalog());
        } else if (command instanceof Command.CatalogDeregister c) {
            return deregister(a, c, view.catalog());
        } else if (command instanceof Command.CheckStatus c) {
            return check(a, view.catalog().check(c.node(), c.checkId()), c.node());
        } else if (command instanceof Command.NodeHeartbeat c) {
            return node(a, c.node());
        } else if (command instanceof Command.Batch c) {
            for (Command sub : c.commands()) {
                String d = denied(a, sub, view);
                if (d != null) {
                    return d;
                }
            }
            return null;
        } else if (command instanceof Command.SessionExpire || command instanceof Command.ReapTombstones) {
            return a.operatorWrite() ? null : "operator write";
        } else if (command instanceof Command.Restore) {
            return "management token (snapshot restore)";
        } else if (command instanceof Command.AclBootstrap) {
            return null; // allowed once, for anyone: the state refuses a second bootstrap
        } else if (command instanceof Command.AclPolicySet || command instanceof Command.AclPolicyDelete
                || command instanceof Command.AclTokenSet || command instanceof Command.AclTokenDelete) {
            return a.aclWrite() ? null : "acl write";
        }
        return "unknown command " + command.getClass().getSimpleName();
    }

    private static String firstOf(String a, String b) {
        return a != null ? a : b;
    }

    private static String key(Authorizer a, String key) {
        return a.write(Resource.KEY, key) ? null : "key \"" + key + "\" write";
    }

    private static String node(Authorizer a, String node) {
        return a.write(Resource.NODE, node) ? null : "node \"" + node + "\" write";
    }

    private static String service(Authorizer a, String name) {
        return a.write(Resource.SERVICE, name) ? null : "service \"" + name + "\" write";
    }

    private static String txnOp(Authorizer a, TxnOp op) {
        String k = op.key();
        return switch (op.verb()) {
            case GET, GET_OR_EMPTY, CHECK_INDEX, CHECK_SESSION, CHECK_NOT_EXISTS ->
                    a.read(Resource.KEY, k) ? null : "key \"" + k + "\" read";
            case GET_TREE -> a.readUnder(Resource.KEY, k) ? null : "key_prefix \"" + k + "\" read";
            case DELETE_TREE -> a.writeUnder(Resource.KEY, k) ? null : "key_prefix \"" + k + "\" write";
            case SET, CAS, LOCK, UNLOCK, DELETE, DELETE_CAS -> key(a, k);
        };
    }

    /** Write to a session needs session write on its node; an unknown session is left to the state to refuse. */
    private static String sessionOf(Authorizer a, KvReadView view, String id, boolean write) {
        Session s = view.session(id);
        if (s == null) {
            return null;
        }
        boolean ok = write ? a.write(Resource.SESSION, s.node()) : a.read(Resource.SESSION, s.node());
        return ok ? null : "session \"" + s.node() + "\" " + (write ? "write" : "read");
    }

    private static String register(Authorizer a, Command.CatalogRegister c, CatalogView catalog) {
        String node = c.node().node();
        if (!(c.skipNodeUpdate() && c.service() != null && catalog.node(node) != null)) {
            String d = node(a, node);
            if (d != null) {
                return d;
            }
        }
        if (c.service() != null) {
            String d = service(a, c.service().service());
            if (d != null) {
                return d;
            }
        }
        for (CatalogCheck ch : c.checks()) {
            String d = check(a, ch, node);
            if (d != null) {
                return d;
            }
        }
        return null;
    }

    private static String deregister(Authorizer a, Command.CatalogDeregister c, CatalogView catalog) {
        if (c.serviceId() != null && !c.serviceId().isEmpty()) {
            CatalogService s = catalog.service(c.node(), c.serviceId());
            return s == null ? node(a, c.node()) : service(a, s.service());
        }
        if (c.checkId() != null && !c.checkId().isEmpty()) {
            return check(a, catalog.check(c.node(), c.checkId()), c.node());
        }
        return node(a, c.node());
    }

    /** A service's check needs service write; a node's check needs node write. */
    private static String check(Authorizer a, CatalogCheck ch, String node) {
        if (ch != null && ch.serviceName() != null && !ch.serviceName().isEmpty()) {
            return service(a, ch.serviceName());
        }
        return node(a, node);
    }
}
