package dev.weft.net.dataplane;

import java.util.List;

/** What one {@link DataPlane} call changed in the kernel, in the order it was done; empty when nothing differed. */
public record Reconciliation(String network, List<OverlayOp> changes) {
    public Reconciliation {
        changes = List.copyOf(changes);
    }

    public boolean unchanged() {
        return changes.isEmpty();
    }

    @Override
    public String toString() {
        return network + ": " + (changes.isEmpty() ? "unchanged" : String.join("; ",
                changes.stream().map(Object::toString).toList()));
    }
}
