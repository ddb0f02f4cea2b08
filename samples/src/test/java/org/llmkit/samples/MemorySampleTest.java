package org.llmkit.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.llmkit.api.ModelConfig;

class MemorySampleTest {
    @Test
    void llama31EightBPresetHasTheCheckpointsParameterCount() {
        // transformers: sum(p.numel() for p in LlamaForCausalLM(config).parameters()) for Meta-Llama-3.1-8B
        assertThat(MemorySample.PRESETS.get("llama-3.1-8b").parameterCount()).isEqualTo(8_030_261_248L);
    }

    @Test
    void tableHasEveryStageDeviceAndOffloadCombination() {
        ModelConfig c = MemorySample.PRESETS.get("llama-3.1-8b");
        String table = MemorySample.table("llama-3.1-8b", c, "bf16", 8);
        assertThat(table.lines().filter(l -> l.matches("\\| \\d \\| \\d+ \\| (yes|no) \\|.*"))).hasSize(16);
        // stage 0, one device, no offload: 2 + 2 + 12 bytes per parameter = 16 * 8.03e9 B = 119.7 GiB
        assertThat(table).contains("| 0 | 1 | no | 15.0 | 15.0 | 89.7 | **119.7** | 0.0 |");
        // stage 3 on 8 devices with offload: weights and gradients / 8, optimizer state on the host
        assertThat(table).contains("| 3 | 8 | yes | 1.9 | 1.9 | 0.0 | **3.7** | 89.7 |");
    }

    @Test
    void badPrecisionIsNamed() {
        assertThatThrownBy(() -> MemorySample.table("x", MemorySample.PRESETS.get("llama-3.2-1b"), "int8", 8))
                .hasMessageContaining("--precision must be fp32, fp16 or bf16");
    }
}
