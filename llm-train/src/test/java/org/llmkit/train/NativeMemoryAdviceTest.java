package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class NativeMemoryAdviceTest {

    @Test
    void linuxWithMallocDefaultsIsToldEveryMissingSettingWithItsValue() {
        String advice = NativeMemoryAdvice.advice("Linux", name -> null);
        assertThat(advice).contains("MALLOC_ARENA_MAX=1", "MALLOC_MMAP_MAX_=0", "MALLOC_TRIM_THRESHOLD_=68719476736");
    }

    @Test
    void onlyTheMissingSettingsAreNamed() {
        Map<String, String> env = Map.of("MALLOC_ARENA_MAX", "1");
        String advice = NativeMemoryAdvice.advice("Linux", env::get);
        assertThat(advice).doesNotContain("MALLOC_ARENA_MAX").contains("MALLOC_MMAP_MAX_=0");
    }

    @Test
    void nothingIsSaidWhenTheSettingsAreThereOrOffLinux() {
        assertThat(NativeMemoryAdvice.advice("Linux", NativeMemoryAdvice.SETTINGS::get)).isNull();
        assertThat(NativeMemoryAdvice.advice("Mac OS X", name -> null)).isNull();
    }
}
