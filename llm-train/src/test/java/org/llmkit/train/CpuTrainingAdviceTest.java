package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.llmkit.api.model.NativeMemory;
import org.llmkit.api.model.WorkerThreads;

class CpuTrainingAdviceTest {

    @Test
    void linuxWithMallocDefaultsIsToldEveryMissingSettingWithItsValue() {
        String advice = CpuTrainingAdvice.mallocAdvice("Linux", name -> null);
        assertThat(advice).contains("MALLOC_ARENA_MAX=1", "MALLOC_MMAP_MAX_=0", "MALLOC_TRIM_THRESHOLD_=68719476736");
    }

    @Test
    void onlyTheMissingSettingsAreNamed() {
        Map<String, String> env = Map.of("MALLOC_ARENA_MAX", "1");
        String advice = CpuTrainingAdvice.mallocAdvice("Linux", env::get);
        assertThat(advice).doesNotContain("MALLOC_ARENA_MAX").contains("MALLOC_MMAP_MAX_=0");
        assertThat(CpuTrainingAdvice.mallocAdvice("Linux", Map.of("MALLOC_ARENA_MAX", "4")::get))
                .as("a different arena count is not the setting").contains("MALLOC_ARENA_MAX=1");
    }

    @Test
    void nothingIsSaidWhenTheSettingsAreThereOrOffLinux() {
        Map<String, String> all = Map.ofEntries(NativeMemory.SETTINGS.toArray(Map.Entry[]::new));
        assertThat(CpuTrainingAdvice.mallocAdvice("Linux", all::get)).isNull();
        assertThat(CpuTrainingAdvice.mallocAdvice("Mac OS X", name -> null)).isNull();
    }

    @Test
    void spinningWorkerThreadsAreToldTheSettingsThatLetOpenBlasTrain() {
        assertThat(CpuTrainingAdvice.threadAdvice(name -> null))
                .contains("GOMP_SPINCOUNT=1000", "OPENBLAS_THREAD_TIMEOUT=4");
        assertThat(CpuTrainingAdvice.threadAdvice(Map.of("OMP_WAIT_POLICY", "PASSIVE")::get))
                .as("passive OpenMP workers already yield").doesNotContain("GOMP_SPINCOUNT")
                .contains("OPENBLAS_THREAD_TIMEOUT=4");
        assertThat(CpuTrainingAdvice.threadAdvice(Map.of("GOMP_SPINCOUNT", "300000",
                "OPENBLAS_THREAD_TIMEOUT", "4")::get)).as("a long spin is not the setting").contains("GOMP_SPINCOUNT");
        Map<String, String> all = Map.ofEntries(WorkerThreads.TRAINING_SETTINGS.toArray(Map.Entry[]::new));
        assertThat(CpuTrainingAdvice.threadAdvice(all::get)).isNull();
    }
}
