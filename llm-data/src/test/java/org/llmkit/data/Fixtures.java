package org.llmkit.data;

import java.nio.file.Path;

/** Locates {@code shared/fixtures/hf-tiny} (HF reference checkpoints). */
final class Fixtures {

    private Fixtures() {
    }

    static Path hfTiny() {
        return org.llmkit.api.Fixtures.hfTiny();
    }

    static Path tokenizer() {
        return hfTiny().resolve("tokenizer");
    }
}
