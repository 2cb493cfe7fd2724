package dev.weft.net.netlink;

import java.util.Objects;

/**
 * An IPv4 policy-routing rule ({@code ip rule}) of the few shapes the overlay uses:
 * {@code pref P iif DEV [to PREFIX] lookup TABLE} and {@code pref P iif DEV unreachable}. Read back with
 * {@link NetlinkClient#rules()}; selectors this record does not hold (source, fwmark, …) are not compared.
 *
 * @param priority     the rule's preference (lower is evaluated first)
 * @param inputDevice  the {@code iif} device name, or null for any
 * @param destination  the {@code to} prefix, or null for any
 * @param unreachable  the action: true for {@code unreachable}, false for {@code lookup table}
 * @param table        the table looked up (254 = main); 0 for {@code unreachable}
 */
public record Rule(int priority, String inputDevice, IpPrefix destination, boolean unreachable, int table) {
    public static final int MAIN_TABLE = 254;

    public Rule {
        if (priority < 0) {
            throw new IllegalArgumentException("negative rule priority " + priority);
        }
        if (inputDevice != null) {
            RtnlMessages.checkName(inputDevice);
        }
        if (destination != null && !destination.isIpv4()) {
            throw new IllegalArgumentException("only IPv4 rules: " + destination);
        }
        if (unreachable != (table == 0)) {
            throw new IllegalArgumentException("an unreachable rule has no table; a lookup rule needs one");
        }
    }

    /** {@code pref P iif DEV [to PREFIX] lookup TABLE}. */
    public static Rule lookup(int priority, String inputDevice, IpPrefix destination, int table) {
        return new Rule(priority, Objects.requireNonNull(inputDevice, "inputDevice"), destination, false, table);
    }

    /** {@code pref P iif DEV unreachable}. */
    public static Rule unreachable(int priority, String inputDevice) {
        return new Rule(priority, Objects.requireNonNull(inputDevice, "inputDevice"), null, true, 0);
    }

    @Override
    public String toString() {
        return "pref " + priority + (inputDevice == null ? "" : " iif " + inputDevice)
                + (destination == null ? "" : " to " + destination)
                + (unreachable ? " unreachable" : " lookup " + (table == MAIN_TABLE ? "main" : table));
    }
}
