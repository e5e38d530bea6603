// Transcription tab: a word or segment button plays the audio from its start time.
(() => {
  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target.closest(".pg-tr-seek") : null;
    if (!target) return;
    const player = document.getElementById("pg-tr-player");
    if (!player) return;
    player.currentTime = Number(target.dataset.t) || 0;
    player.play();
    document.querySelectorAll(".pg-tr-seek.pg-on").forEach((b) => b.classList.remove("pg-on"));
    target.classList.add("pg-on");
  });
})();
