package org.llmkit.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.llmkit.api.model.NativeMemory;

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
        assertThat(NativeMemoryAdvice.advice("Linux", Map.of("MALLOC_ARENA_MAX", "4")::get))
                .as("a different arena count is not the setting").contains("MALLOC_ARENA_MAX=1");
    }

    @Test
    void nothingIsSaidWhenTheSettingsAreThereOrOffLinux() {
        Map<String, String> all = Map.ofEntries(NativeMemory.SETTINGS.toArray(Map.Entry[]::new));
        assertThat(NativeMemoryAdvice.advice("Linux", all::get)).isNull();
        assertThat(NativeMemoryAdvice.advice("Mac OS X", name -> null)).isNull();
    }
}
