package org.llmkit.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates {@code shared/fixtures/hf-tiny} (HF reference checkpoints). */
final class Fixtures {

    private Fixtures() {
    }

    static Path hfTiny() {
        String configured = System.getProperty("llmkit.fixtures");
        if (configured != null) {
            return Path.of(configured);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            Path candidate = p.resolve("shared/fixtures/hf-tiny");
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
        }
        throw new IllegalStateException("shared/fixtures/hf-tiny not found above " + Path.of("").toAbsolutePath()
                + "; set -Dllmkit.fixtures=/path/to/hf-tiny");
    }

    static Path tokenizer() {
        return hfTiny().resolve("tokenizer");
    }
}
