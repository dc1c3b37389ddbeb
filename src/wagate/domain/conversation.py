"""Debounce (SE2): when may a burst of messages be answered? Pure; time is passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True, kw_only=True)
class DebouncePolicy:
    quiet: timedelta  # silence needed after the last message of a burst
    max_wait: timedelta  # but never wait longer than this after its first message

    def ready_at(self, *, first_arrival: datetime, last_arrival: datetime) -> datetime:
        """The moment the burst may be answered: `quiet` after its last message, capped at
        `max_wait` after its first, so a chatty user still gets answers."""
        return min(last_arrival + self.quiet, first_arrival + self.max_wait)

    def wait_until(
        self, *, now: datetime, first_arrival: datetime, last_arrival: datetime
    ) -> datetime | None:
        """None when the burst is ready now, else when to look again."""
        ready = self.ready_at(first_arrival=first_arrival, last_arrival=last_arrival)
        return None if ready <= now else ready


def session_expired(
    last_activity: datetime | None, *, now: datetime, idle_timeout: timedelta
) -> bool:
    """After `idle_timeout` of silence a conversation starts a new session (SE1)."""
    return last_activity is None or now - last_activity >= idle_timeout


@dataclass(frozen=True, slots=True, kw_only=True)
class Notices:
    """What the gateway says on its own behalf. Defaults are polite Indonesian; all configurable."""

    link_first: str = (
        "Nomor WhatsApp Anda belum terhubung dengan akun. Silakan hubungkan nomor Anda di "
        "aplikasi terlebih dahulu, lalu kirim pesan lagi."
    )
    rate_limited: str = (
        "Mohon maaf, pesan Anda terlalu banyak dalam satu menit. Mohon tunggu sebentar sebelum "
        "mengirim pesan lagi."
    )
    too_long: str = (
        "Mohon maaf, pesan Anda terlalu panjang. Mohon ringkas menjadi paling banyak "
        "{max_chars} karakter."
    )
    non_text: str = "Mohon maaf, saat ini saya hanya dapat membaca pesan teks."
    # Files (MD1): received and kept; refused, with why; lost at the provider.
    media_received: str = (
        "Terima kasih, berkas Anda sudah kami terima dan simpan dengan aman. Silakan tuliskan "
        "pertanyaan Anda tentang berkas tersebut."
    )
    audio_received: str = (
        "Terima kasih, pesan suara Anda sudah kami terima dan simpan. Saat ini saya belum dapat "
        "mendengarkan pesan suara; mohon tuliskan pertanyaan Anda."
    )
    audio_failed: str = (
        "Mohon maaf, pesan suara Anda sudah kami simpan tetapi belum dapat kami dengarkan. "
        "Mohon tuliskan pertanyaan Anda."
    )
    media_too_large: str = (
        "Mohon maaf, berkas Anda terlalu besar (paling besar {limit_mb} MB untuk jenis ini) "
        "sehingga tidak kami simpan. Mohon kirim berkas yang lebih kecil, atau bagi menjadi "
        "beberapa bagian."
    )
    media_refused: str = (
        "Mohon maaf, demi keamanan jenis berkas ini tidak dapat kami terima. Mohon kirim dokumen "
        "dalam bentuk PDF, Word, atau foto (JPG/PNG)."
    )
    media_mismatch: str = (
        "Mohon maaf, isi berkas Anda tidak sesuai dengan jenisnya (misalnya bernama .pdf tetapi "
        "isinya bukan PDF), sehingga tidak kami terima. Mohon kirim ulang berkas aslinya."
    )
    media_unavailable: str = (
        "Mohon maaf, berkas Anda tidak dapat kami unduh. Mohon kirim ulang berkas tersebut."
    )
    apology: str = (
        "Mohon maaf, asisten sedang mengalami gangguan. Pertanyaan Anda sudah kami simpan dan "
        "akan kami jawab secepatnya."
    )
    disclosure: str = (
        "🤖 Anda sedang berbicara dengan asisten AI (kecerdasan buatan), bukan dengan manusia."
    )
    disclaimer: str = (
        "_Jawaban ini dibuat oleh AI dan bukan merupakan nasihat hukum. Untuk keputusan "
        "penting, hubungi petugas kami._"
    )
    consent_request: str = (
        "Sebelum melanjutkan, kami memerlukan persetujuan Anda untuk memproses pesan dan data "
        "pribadi Anda sesuai UU No. 27 Tahun 2022 tentang Pelindungan Data Pribadi. Balas "
        "{consent} untuk setuju, atau {optout} kapan saja untuk berhenti."
    )
    consent_recorded: str = (
        "Terima kasih, persetujuan Anda telah dicatat. Silakan sampaikan pertanyaan Anda."
    )
    optout_confirmed: str = (
        "Anda telah berhenti. Kami tidak akan mengirim pesan lagi. Balas {consent} bila ingin "
        "memulai kembali."
    )
    link_code: str = (
        "Kode verifikasi Anda: {code}. Berlaku {minutes} menit. Jangan bagikan kode ini."
    )
