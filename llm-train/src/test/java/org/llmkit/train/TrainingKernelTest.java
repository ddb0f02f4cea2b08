package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** llm-train's tests run with the malloc settings (surefire), so the AdamW fixture tests cover the oneDNN path. */
class TrainingKernelTest {

    @Test
    void testsRunWithTheLaunchersMallocSettingsSoTheOneDnnTrainingPathIsCovered() {
        assertThat(CpuTrainingAdvice.mallocAdvice("Linux", System::getenv)).isNull();
    }
}
