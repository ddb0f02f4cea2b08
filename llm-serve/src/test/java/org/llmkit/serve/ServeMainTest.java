package org.llmkit.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The serve command's options. */
class ServeMainTest {

    @Test
    void parsesEveryOption() {
        ServeMain.Options o = ServeMain.Options.parse(new String[] {"--model", "m", "--tokenizer", "t", "--port",
            "0", "--host", "0.0.0.0", "--api-key", "a", "--api-key", "b", "--max-batch-size", "8", "--max-queue",
            "3", "--model-name", "x"});

        assertThat(o.model).isEqualTo(Path.of("m"));
        assertThat(o.tokenizer).isEqualTo(Path.of("t"));
        assertThat(o.port).isZero();
        assertThat(o.host).isEqualTo("0.0.0.0");
        assertThat(o.apiKeys).containsExactly("a", "b");
        assertThat(o.maxBatchSize).isEqualTo(8);
        assertThat(o.maxQueue).isEqualTo(3);
        assertThat(o.modelName).isEqualTo("x");
    }

    @Test
    void helpNeedsNoModelAndUsageListsTheOptions() {
        assertThat(ServeMain.Options.parse(new String[] {"--help"}).help).isTrue();
        assertThat(ServeMain.USAGE).contains("--model DIR", "--tokenizer DIR", "--port N", "--api-key K");
    }

    @Test
    void badOptionsNameTheProblem() {
        assertThatThrownBy(() -> ServeMain.Options.parse(new String[] {})).hasMessageContaining("--model");
        assertThatThrownBy(() -> ServeMain.Options.parse(new String[] {"--model", "m", "--port", "x"}))
                .hasMessageContaining("--port needs an integer");
        assertThatThrownBy(() -> ServeMain.Options.parse(new String[] {"--model", "m", "--colour", "red"}))
                .hasMessageContaining("unknown option --colour");
    }

    @Test
    void builderRejectsOutOfRangeSettingsNamingThem() {
        LlmServerBuilder b = LlmServer.of(TestSupport.model());

        assertThatThrownBy(() -> b.port(70000)).hasMessageContaining("port must be in [0, 65535]");
        assertThatThrownBy(() -> b.maxBatchSize(0)).hasMessageContaining("maxBatchSize");
        assertThatThrownBy(() -> b.apiKeys(" ")).hasMessageContaining("non-blank");
        assertThatThrownBy(() -> b.requestTimeout(java.time.Duration.ZERO)).hasMessageContaining("requestTimeout");
    }
}
