package dev.weft.net.docker;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * This host's Docker network IDs → weft network names, in a JSON file written atomically (temp file + rename).
 * Docker gives a network another ID on every host where it is created; only the first host's ID is the
 * network's own. Thread-safe.
 */
final class DockerNetworkIds {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private final Map<String, String> names = new LinkedHashMap<>();

    DockerNetworkIds(Path file) {
        this.file = file;
        if (Files.exists(file)) {
            try {
                names.putAll(JSON.readValue(Files.readAllBytes(file), new TypeReference<Map<String, String>>() {
                }));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
    }

    synchronized Optional<String> name(String dockerId) {
        return Optional.ofNullable(names.get(dockerId));
    }

    synchronized void put(String dockerId, String name) {
        if (!name.equals(names.put(dockerId, name))) {
            write();
        }
    }

    synchronized void remove(String dockerId) {
        if (names.remove(dockerId) != null) {
            write();
        }
    }

    /** Whether another Docker ID of this host still maps to {@code name}. */
    synchronized boolean usedBy(String name) {
        return names.containsValue(name);
    }

    private void write() {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            Files.write(tmp, JSON.writeValueAsBytes(names));
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
