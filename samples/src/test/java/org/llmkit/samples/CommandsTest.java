package org.llmkit.samples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CommandsTest {
    @ParameterizedTest
    @ValueSource(strings = {"plan", "generate", "chat", "data", "finetune", "eval", "serve", "memory"})
    void everyCommandExplainsItsOptions(String command) throws Exception {
        PrintStream original = System.out;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            Main.main(new String[] {command, "--help"});
        } finally {
            System.setOut(original);
        }
        String help = bytes.toString(StandardCharsets.UTF_8);
        assertThat(help).startsWith("java -jar llmkit-samples.jar " + command).contains("Options:", "--");
    }
}
