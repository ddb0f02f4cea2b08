package org.llmkit.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LanguageFilterTest {

    private static final String EN = "The committee will publish its final report on the new railway line next week, "
            + "after months of public hearings in several towns along the planned route.";
    private static final String DE = "Der Ausschuss wird seinen Abschlussbericht über die neue Bahnstrecke nächste Woche "
            + "veröffentlichen, nach monatelangen Anhörungen in mehreren Städten entlang der geplanten Strecke.";
    private static final String FR = "Le comité publiera son rapport final sur la nouvelle ligne de chemin de fer la semaine "
            + "prochaine, après des mois d'audiences publiques dans plusieurs villes le long du tracé prévu.";
    private static final String ES = "El comité publicará su informe final sobre la nueva línea de ferrocarril la próxima "
            + "semana, tras meses de audiencias públicas en varias ciudades a lo largo de la ruta prevista.";

    @Test
    void keepsEnglishAndReportsTheLanguageOfEveryDocument() throws Exception {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            texts.add(EN + " Item " + i + ".");
            texts.add(DE + " Punkt " + i + ".");
            texts.add(FR + " Point " + i + ".");
        }
        texts.add(ES);
        List<Document> kept = new ArrayList<>();
        PipelineReport report = Pipeline.from(Dataset.of(texts)).language("en").threads(2).run(kept::add);

        assertThat(kept).hasSize(5).allSatisfy(d -> assertThat(d.text()).startsWith("The committee"));
        assertThat(report.languageDistribution()).containsEntry("en", 5L).containsEntry("de", 5L)
                .containsEntry("fr", 5L).containsEntry("es", 1L);
        assertThat(report.count("language", "lang:de")).isEqualTo(5);
        assertThat(report.count("language", "lang:fr")).isEqualTo(5);
        assertThat(report.count("language", "lang:es")).isEqualTo(1);
    }

    @Test
    void keepListMayHoldSeveralLanguages() throws Exception {
        List<Document> kept = Pipeline.from(Dataset.of(List.of(EN, DE, FR, ES))).language("de", "fr").collect();
        assertThat(kept).extracting(Document::id).containsExactly("1", "2");
    }

    @Test
    void unknownLanguageCodeIsAClearError() {
        assertThatThrownBy(() -> LanguageFilter.keep("xx"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown language code \"xx\"")
                .hasMessageContaining("en");
    }
}
