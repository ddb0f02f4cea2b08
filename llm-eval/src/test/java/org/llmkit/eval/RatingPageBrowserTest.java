package org.llmkit.eval;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The human-rating page in a real headless Chromium (Debian's {@code chromium} and
 * {@code chromium-driver}; {@code .ci/run} installs them). Fails, never skips, without them.
 */
class RatingPageBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private static WebDriver chromium() {
        assertThat(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER))
                .as("this test needs Debian's browser: apt-get install -y chromium chromium-driver (.ci/run does)")
                .isTrue();
        ChromeOptions options = new ChromeOptions().setBinary(CHROMIUM.toFile())
                .addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu");
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(CHROMEDRIVER.toString())).usingAnyFreePort().build();
        return new ChromeDriver(service, options);
    }

    @Test
    void raterScoresThreeItemsInChromiumAndTheScoresReachTheReport(@TempDir Path out) throws Exception {
        List<RatingItem> items = List.of(new RatingItem("a", "What is 2+2?", "4"),
                new RatingItem("b", "Name a colour <b>bold</b>", "Blue & green"),
                new RatingItem("c", "Say hi", "hello there"),
                new RatingItem("d", "Unrated prompt", "unrated answer"));
        try (RatingServer server = RatingServer.of(items).start()) {
            WebDriver browser = chromium();
            try {
                browser.get(server.url());
                WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
                wait.until(ExpectedConditions.elementToBeClickable(By.id("score-2-3")));
                assertThat(browser.findElement(By.id("item-1")).getText()).contains("Name a colour <b>bold</b>")
                        .contains("Blue & green");   // shown as text, not markup
                browser.findElement(By.id("score-0-5")).click();
                browser.findElement(By.id("comment-0")).sendKeys("correct and short");
                browser.findElement(By.id("score-1-4")).click();
                browser.findElement(By.id("score-2-3")).click();
                browser.findElement(By.id("comment-2")).sendKeys("a bit generic");
                browser.findElement(By.id("submit")).click();
                wait.until(ExpectedConditions.textToBe(By.id("status"), "Thank you: 3 rating(s) saved."));
            } finally {
                browser.quit();
            }
            assertThat(server.ratings().ratings()).containsExactly(new Rating("a", 5, "correct and short"),
                    new Rating("b", 4, ""), new Rating("c", 3, "a bit generic"));
            EvalReport report;
            try (var model = Fixtures.llama3()) {
                report = Evaluator.of(model).humanRatings(server.ratings()).run();
            }
            assertThat(report.metric("human", "mean_score")).isEqualTo(4.0);
            assertThat(report.metric("human", "items_rated")).isEqualTo(3.0);
            assertThat(report.metric("human", "items")).isEqualTo(4.0);
            assertThat(report.metric("human", "score_5")).isEqualTo(1.0);
            assertThat(report.metric("human", "comments")).isEqualTo(2.0);
            report.writeTo(out);
            assertThat(Files.readString(out.resolve("report.json"))).contains("\"mean_score\" : 4.0");
            assertThat(Files.readString(out.resolve("report.html"))).contains("<h2>human</h2>");
            assertThat(out.resolve("charts/human-ratings.png")).isRegularFile();
            server.ratings().writeTo(out.resolve("ratings.json"));
            assertThat(Files.readString(out.resolve("ratings.json"))).contains("\"comment\" : \"a bit generic\"");
        }
    }
}
