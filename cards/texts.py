"""Every sentence staff read, in Swedish, in one place."""

from __future__ import annotations

BOT_NAME = "Distansmöte"

NO_PATIENT_DATA = "Skriv inga patientuppgifter här – inga namn, personnummer eller adresser."
PERSONAL_NUMBER_TITLE = "Inga personnummer här"
PERSONAL_NUMBER_REFUSED = (
    "Ditt meddelande verkar innehålla ett personnummer eller samordningsnummer. "
    "Jag har inte sparat det och inte gjort något med det. Distansmöte ska aldrig innehålla "
    "patientuppgifter – skriv bara enhetens namn, datum och tid."
)
# Said when something failed at an unknown step: whether anything was changed is not known.
INTERNAL_ERROR = (
    "Något gick fel hos mig. Försök igen om en stund, och skriv /distansmöte lista för att se "
    "om mötesrummet redan finns."
)
UNKNOWN_ACTION = "Den knappen känner jag inte igen. Skriv /distansmöte hjälp för att se vad jag kan göra."
STALE_CARD = (
    "Kortet kommer från en äldre version av Distansmöte och kan inte användas längre. "
    "Skriv /distansmöte lista för att få aktuella kort."
)
NOT_ALLOWED = "Du har inte behörighet att använda Distansmöte. Kontakta IT-supporten om du behöver tillgång."
MOVED_TO_DIRECT = "Jag skickar resten till dig i ett privat meddelande, eftersom mötesuppgifterna är sekretessbelagda."

NEW_MEETING_TITLE = "Nytt distansmöte"
NEW_MEETING_INTRO = (
    "Jag skapar ett unikt mötesrum i Cisco Meeting Server åt dig. Distansmöte ska vara förstahandsval "
    "när regionen och kommunen planerar tillsammans med en patient."
)
UNIT_LABEL = "Enhet"
UNIT_PLACEHOLDER = "t.ex. HC Torsås"
UNIT_CHOICE_PLACEHOLDER = "Välj din enhet"
# What ``distansmote privacy scan --fix`` puts where the store held a personal identity number.
REMOVED_UNIT = "Okänd enhet"
REMOVED_LABEL = "Mottagare (texten borttagen)"
DATE_LABEL = "Datum"
START_LABEL = "Starttid"
LENGTH_LABEL = "Längd"
CREATE_ROOM = "Skapa mötesrum"
LENGTH_CHOICES = ((15, "15 minuter"), (30, "30 minuter"), (45, "45 minuter"), (60, "1 timme"),
                  (90, "1,5 timmar"), (120, "2 timmar"), (180, "3 timmar"))
# Where the patient takes part: a choice of room type, not patient data (optional).
PATIENT_JOINS_LABEL = "Var deltar patienten? (valfritt)"
PATIENT_JOINS_PLACEHOLDER = "Inte valt"
PATIENT_JOINS = {
    "video_room": "Videokonferensrum",
    "browser": "Webbläsare med kamera och mikrofon",
    "phone": "Telefon, om inget annat är möjligt",
}
PATIENT_JOINS_FACT = "Patienten deltar via"
PATIENT_JOINS_HINT = (
    "Välj det som är mest lämpligt för patienten. Vilken utrustning som behövs står i ”checklista för "
    "rekommenderad utrustning för distansmöte”."
)
# First in the invitation and the start reminder (the invitation is read by the municipality).
PATIENT_JOINS_LEAD = {
    "video_room": "Patienten deltar från ett videokonferensrum.",
    "browser": "Patienten deltar via webbläsare med kamera och mikrofon.",
    "phone": "Patienten deltar via telefon (endast ljud).",
}
UNIT_NUMBER_STRIPPED = (
    "Jag numrerar mötesrummen själv, så att varje möte får ett eget rum. Därför tolkade jag enheten som "
    "”{unit}” i stället för ”{typed}”: rummet heter {room}."
)

ROOM_CREATED_TITLE = "Mötesrummet är skapat"
ROOM_TITLE = "Mötesrum"
VIDEO_ADDRESS = "Videoadress"
CALL_ID = "Samtals-ID"
WHEN = "Tid"
STATE = "Status"
STATES = {
    "created": "Skapat – inbjudan inte skickad",
    "invited": "Inbjudan skickad",
    "ended": "Mötet är slut – rummet ska tas bort",
    "deleted": "Borttaget",
}
FORWARDING_TITLE = "Så skickar du inbjudan"
FORWARDING_RULES = (
    "1. Skicka i första hand via **Cosmic Link** när patienten är utskrivningsplanerad från slutenvården.",
    "2. Finns personen inte i Cosmic Link: skicka via **Cosmic Messenger**. Välj kategori ”Distansmöte” och "
    "ange personens adress i ämnesraden enligt rutinen för Messenger.",
    "3. Den som inte har Link eller Messenger får uppgifterna per **telefon**: ring och läs upp texten nedan. "
    "Klicka sedan på **Skickat** – då är mottagaren meddelad per telefon och behöver inte bekräfta.",
    "4. Skicka **aldrig** via e-post – det är inte säkert och därför inte tillåtet.",
    "5. Mottagare i Link eller Messenger ska skicka en bekräftelse när informationen är noterad. "
    "Klicka då på **Bekräftelse mottagen**.",
)
# Staff guidance beside the invitation; never inside the text that is pasted.
MUNICIPALITY_NEEDS = (
    "Mötesdeltagarna på kommunen behöver bara videoadressen och samtals-ID:t. Inbjudan att klistra in "
    "innehåller dem och hur man ansluter – inget annat."
)
INVITATION_FOLLOWS = "Inbjudan att kopiera och klistra in kommer i nästa meddelande."
READ_ALOUD_TITLE = "Per telefon – läs upp"
# Times as Swedish writes them: kl. 10.00.
TIME_FORMAT = "%H.%M"
WEEKDAYS = ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag")
MONTHS = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december")
READ_ALOUD = (
    "Distansmötet är {date} klockan {start}. Ring {number} och ange samtals-ID {call_id}. "
    "Har du ett videokonferenssystem kan du i stället ringa upp videoadressen {address}."
)
READ_ALOUD_NO_NUMBER = (
    "Distansmötet är {date} klockan {start}. Samtals-ID är {call_id}, och videoadressen är {address}."
)
RECIPIENTS_TITLE = "Mottagare"
NO_RECIPIENTS = "Inga mottagare ännu. Lägg till dem du skickar inbjudan till."
RECIPIENT_ROLE_LABEL = "Ny mottagare"
RECIPIENT_ROLE_PLACEHOLDER = "Välj mottagare"
# The routine's common recipients, offered unless DISTANSMOTE_RECIPIENT_ROLES names the region's own.
RECIPIENT_ROLES = (
    "Kommunen – hemtjänsten",
    "Kommunen – hemsjukvården",
    "Kommunen – biståndshandläggare",
    "Kommunen – rehabilitering",
    "Vårdcentralen",
    "Slutenvården – avdelningen",
)
RECIPIENT_LABEL = "…eller en annan mottagare: en roll, inga personuppgifter"
RECIPIENT_PLACEHOLDER = "t.ex. Kommunen – korttidsboendet"
CHANNEL_LABEL = "Kanal"
CHANNELS = {"link": "Cosmic Link", "messenger": "Cosmic Messenger", "phone": "Telefon"}
CONFIRMING_CHANNELS = ("link", "messenger")  # only these send a confirmation back (the routine)
PICK_RECIPIENT = "Välj mottagare"
ADD_RECIPIENT = "Lägg till mottagare"
MARK_SENT = "Skickat"
MARK_CONFIRMED = "Bekräftelse mottagen"
DELETE_ROOM = "Ta bort mötesrummet"
SHOW_INVITATION = "Visa inbjudan"
NOT_SENT = "inte skickat"
SENT_AT = "skickat {time}"
CONFIRMED_AT = "bekräftat {time}"
PHONED_AT = "meddelad per telefon {time}"
NOT_PHONED = "inte meddelad ännu"
NEEDS_NEW_WORD = "behöver nytt besked (mötet är flyttat)"
MORE = "Fler val…"

# "Fler val": move, hand over, cancel.
MORE_TITLE = "{room} – fler val"
MOVE_TITLE = "Flytta mötet"
MOVE_INTRO = (
    "Välj ny dag och tid. Rummet, videoadressen och samtals-ID:t är desamma, men alla som har fått "
    "inbjudan behöver nytt besked."
)
MOVE = "Flytta mötet"
HAND_OVER_TITLE = "Lämna över"
HAND_OVER_INTRO = (
    "Ge mötet till en kollega, t.ex. om du blir sjuk. Kollegan får rumskortet och påminnelserna och ser "
    "till att rummet tas bort."
)
COLLEAGUE_LABEL = "Kollegans namn eller e-postadress"
COLLEAGUE_PLACEHOLDER = "t.ex. Karin Ek"
FIND_COLLEAGUE = "Lämna över…"
CANCEL_TITLE = "Ställ in mötet"
CANCEL_INTRO = "Blir mötet inte av tas rummet bort direkt, och du får en lista över vilka som ska få besked."
CANCEL_MEETING = "Ställ in mötet…"
JOIN_CHECK_ASK = "Har alla anslutit?"

MOVED_NOTE = (
    "Mötet är flyttat från {was}. Ge alla mottagare nytt besked: skicka den nya inbjudan (nästa meddelande) "
    "i samma kanal som förut, ring dem som ska meddelas per telefon, och markera var och en igen."
)
MOVED_INVITATION_LEAD = "NY TID – ersätter inbjudan till mötet {was}."
MOVED_INVITATION_LEAD_AGAIN = "NY TID – ersätter den tidigare inbjudan."
MOVED_NOTE_AGAIN = (
    "Mötet är flyttat. Ge alla mottagare nytt besked: skicka den nya inbjudan (nästa meddelande) i samma "
    "kanal som förut, ring dem som ska meddelas per telefon, och markera var och en igen."
)

PICK_COLLEAGUE_TITLE = "Lämna över {room}"
PICK_COLLEAGUE = "Till vem?"
PICK_COLLEAGUE_INTRO = "Kollegan får rumskortet, påminnelserna och ansvaret för att rummet tas bort."
HAND_OVER = "Lämna över"
HAND_OVER_NO = "Avbryt"
HAND_OVER_CANCELLED = "Okej, {room} är fortfarande ditt."
HANDED_OVER_TITLE = "{room} är överlämnat"
HANDED_OVER_TEXT = "{name} har nu mötesrummet {room}, med påminnelserna och ansvaret för att det tas bort."
HANDED_TO_YOU_NOTE = (
    "{name} har lämnat över mötesrummet till dig ({when}). Du får nu påminnelserna och ser till att rummet "
    "tas bort efter mötet."
)
HANDED_AWAY_TITLE = "{room} har lämnats över"
HANDED_AWAY_TEXT = "En administratör har lämnat över mötesrummet till {name}, som nu får påminnelserna."

CANCEL_CONFIRM_TITLE = "Ställ in mötet i {room}?"
CANCEL_CONFIRM_TEXT = (
    "Mötet blir inte av. Rummet tas bort från Cisco Meeting Server direkt och kan aldrig användas igen."
)
CANCEL_YES = "Ja, ställ in mötet"
CANCEL_YES_END_CALL = "Avsluta samtalet och ställ in"
CANCEL_NO = "Nej, behåll mötet"
CANCEL_KEPT = "Okej, mötet i {room} är kvar som förut."
CANCELLED_TITLE = "Mötet är inställt"
CANCELLED_TEXT = "Mötet {when} är inställt och {room} är borttaget."
CANCELLED_TELL = "Ge besked till dessa mottagare, i samma kanal som inbjudan:"
CANCELLED_NOBODY = "Ingen mottagare hade fått inbjudan, så ingen behöver besked."
CANCELLED_MESSAGE_TITLE = "Text till Cosmic Link och Cosmic Messenger"
CANCELLED_MESSAGE = (
    "INSTÄLLT: Distansmötet {date} kl. {start}–{end} är inställt. Videoadressen går inte längre att använda."
)
CANCELLED_PHONE_TITLE = "Per telefon – läs upp"
CANCELLED_READ_ALOUD = "Distansmötet {date} klockan {start} är inställt."

DELETE_CONFIRM_TITLE = "Ta bort {room}?"
DELETE_CONFIRM_TEXT = "Rummet tas bort från Cisco Meeting Server och kan aldrig användas igen."
DELETE_CALL_ACTIVE = (
    "Varning: det pågår ett samtal i rummet just nu. "
    "Om du tar bort rummet avslutas samtalet för alla."
)
DELETE_YES = "Ja, ta bort"
DELETE_YES_END_CALL = "Avsluta samtalet och ta bort"
DELETE_NO = "Avbryt"
DELETED_TITLE = "Mötesrummet är borttaget"
DELETED_TEXT = "{room} är borttaget och kan inte användas igen. Tack!"
DELETE_CANCELLED = "Okej, {room} finns kvar. Kom ihåg att ta bort det efter mötet."

LIST_TITLE = "Dina mötesrum"
LIST_EMPTY = "Du har inga mötesrum just nu. Skriv /distansmöte ny för att skapa ett."
PICK_MEETING = "Välj mötesrum"
CONFIRMED_COUNT = "{confirmed} av {total} har bekräftat"
PHONED_COUNT = "{phoned} av {total} meddelade per telefon"
NO_RECIPIENTS_YET = "inga mottagare ännu"

HELP_TITLE = "Distansmöte – hjälp"
HELP_INTRO = (
    "Jag hjälper dig med regionens rutin för distansmöten: ett unikt mötesrum per möte, "
    "inbjudan via säkra kanaler, bekräftelser, påminnelser och att rummet tas bort efteråt. "
    "Distansmöte ska vara förstahandsval när regionen och kommunen planerar tillsammans med en patient, "
    "så långt det är möjligt och med hänsyn till patientens välmående."
)
HELP_COMMANDS_TITLE = "Kommandon"
HELP_COMMANDS = (
    "**/distansmöte ny** – skapa ett nytt mötesrum",
    "**/distansmöte lista** – dina mötesrum",
    "**/distansmöte ta bort HC Torsås 9** – ta bort ett mötesrum",
    "**Fler val…** på rumskortet – flytta mötet, lämna över det till en kollega, ställ in det eller se "
    "om alla har anslutit",
    "**/distansmöte hjälp** – den här hjälpen",
    "**/distansmöte status**, **/distansmöte rapport** och **/distansmöte rapport rum** – läget, rapporten "
    "per enhet och per mötesrum (för administratörer)",
)
HELP_PREPARE_TITLE = "Förberedelser"
HELP_PREPARE = (
    "För att ansluta till ett distansmöte behövs viss utrustning. Vilka enheter som rekommenderas står i "
    "”checklista för rekommenderad utrustning för distansmöte”. Mötesrum skapar du med mig; saknar du "
    "programmet Cisco Meeting på din dator i regionen, kontakta IT-supporten så att du får det installerat."
)
HELP_EQUIPMENT_TITLE = "Var patienten deltar – det här behövs"
HELP_EQUIPMENT = {
    "video_room": "**Videokonferensrum:** ett videokonferenssystem med pekskärm eller fjärrkontroll.",
    "browser": (
        "**Webbläsare:** en dator med webbläsare, kamera och mikrofon (gärna headset) och Cisco Meeting "
        "eller mötets webblänk."
    ),
    "phone": "**Telefon, om inget annat är möjligt:** en vanlig telefon. Bara ljud – patienten ser ingen bild.",
}
HELP_VIDEO_TITLE = "Ansluta via videokonferenssystem"
HELP_VIDEO = (
    "Skriv in videoadressen (t.ex. hc.torsas.8@…) med konferenssystemets pekskärm eller fjärrkontroll "
    "och tryck på ”Ring upp”."
)
HELP_BROWSER_TITLE = "Ansluta via Cisco Meeting (webbläsare)"
HELP_BROWSER = (
    "Öppna mötets webblänk, eller anslut med Cisco Meeting, på en dator med kamera och mikrofon. "
    "Se filmen nedan och informationen på intranätet Navet."
)
HELP_PHONE_TITLE = "Ansluta utan bild, med telefon"
HELP_PHONE = "Ring {number} och ange samtals-ID:t för mötet. Följ sedan instruktionerna."
HELP_PHONE_NO_NUMBER = "Ring mötestjänstens telefonnummer och ange samtals-ID:t för mötet."
HELP_DURING_TITLE = "Under mötet"
HELP_DURING = (
    "Inled alltid mötet med att kontrollera att alla ser varandra och att ljudet är bra. "
    "Tips finns i dokumentet ”Tips inför distansmöte”."
)
HELP_AFTER_TITLE = "Efter mötet"
HELP_AFTER = "Den som skapade mötesrummet tar bort det, så att det aldrig används igen."
HELP_LINKS_TITLE = "Dokument och filmer"
# The routine's titles as written; with a link where one is configured, else where to find it.
HELP_LINKS = {
    "link_equipment_checklist": "Dokument: ”checklista för rekommenderad utrustning för distansmöte”",
    "link_meeting_tips": "Dokument: ”Tips inför distansmöte”",
    "link_practical_guide": "Praktiska anvisningar: ”Distansmöte mellan huvudmän”",
    "link_film_create_room": "Film: Skapa distansmöten/mötesrum för planering mellan huvudmän",
    "link_film_join": "Film: Anslut till distansmötesrum via Cisco Meeting",
    "link_film_picture_sound": "Film: Konfigurera bild och ljud i Cisco Meeting",
    "link_film_delete_room": "Film: Ta bort mötesrum i Cisco Meeting",
}
HELP_LINK_ON_NAVET = "{title} – finns på intranätet Navet"
UNKNOWN_COMMAND = "Det kommandot känner jag inte igen. Här är vad jag kan:"

NO_EMAIL_TITLE = "Inte via e-post"
NO_EMAIL = (
    "Mötesuppgifter får inte skickas via e-post: det är inte säkert och därför inte tillåtet enligt "
    "rutinen, eftersom uppgifterna är sekretessbelagda. Skicka i första hand via Cosmic Link, annars via "
    "Cosmic Messenger (kategori ”Distansmöte”), och ring den som inte har Link eller Messenger."
)

STATUS_TITLE = "Status (för administratörer)"
STATUS_LIVE = "Aktiva mötesrum"
STATUS_BY_STATE = "Per status"
STATUS_OVERDUE_TITLE = "Borde redan vara borttagna ({count})"
STATUS_OVERDUE_ROOM = "**{room}** – skapat av {creator}, mötet slutade {ended}"
STATUS_NONE_OVERDUE = "Inga mötesrum är kvar efter tidsgränsen för borttagning."

REPORT_TITLE = "Rapport (för administratörer)"
REPORT_PERIOD_ALL = "Alla mötesrum som Distansmöte har skapat, per enhet."
REPORT_PERIOD = "Mötesrum skapade {period}, per enhet."
REPORT_FROM = "från {date}"
REPORT_TO = "till och med {date}"
REPORT_NO_PATIENT_DATA = "Rapporten innehåller inga patientuppgifter och inga mottagare."
REPORT_EMPTY = "Inga mötesrum har skapats under perioden."
REPORT_TOTAL = "Totalt"
REPORT_UNKNOWN_UNIT = "Okänd enhet"
REPORT_FIGURES = {
    "created": "Skapade",
    "deleted_by_creator": "Borttagna av den som skapade rummet",
    "deleted_by_admin": "Borttagna av administratör",
    "deleted_automatically": "Borttagna automatiskt",
    "median_minutes_to_deletion": "Tid från mötets slut till borttagning (median)",
    "longest_minutes_to_deletion": "Längsta tid från mötets slut till borttagning",
    "live_now": "Aktiva nu",
    "overdue_now": "Kvar efter tidsgränsen nu",
    "orphans_last_sweep": "Rum utan möte vid senaste kontrollen",
}
REPORT_LAST_SWEEP = "Senaste kontrollen av mötestjänsten: {when}."
REPORT_NO_SWEEP = "Mötestjänsten har inte kontrollerats ännu (det görs varje morgon)."
REPORT_DATES_INVALID = ("Skriv datum som ÅÅÅÅ-MM-DD, t.ex. /distansmöte rapport 2026-11-01 2026-11-30 "
                        "eller /distansmöte rapport rum 2026-11-01 2026-11-30.")
ROOMS_REPORT_TITLE = "Rapport per mötesrum (för administratörer)"
ROOMS_REPORT_PERIOD_ALL = "Alla mötesrum som Distansmöte har skapat, med när och av vem de togs bort."
ROOMS_REPORT_PERIOD = "Mötesrum skapade {period}, med när och av vem de togs bort."
ROOMS_REPORT_NO_PERSONS = "Rapporten visar bara vilken roll som tog bort rummet, inga namn och inga patientuppgifter."
ROOMS_REPORT_LATEST = ("Kortet visar de {shown} senaste av {total} mötesrum. Hela listan tar IT-förvaltningen "
                       "fram med kommandot distansmote report --rooms (även som Excel-fil).")
ROOMS_REPORT_FACTS = {
    "unit": "Enhet",
    "created_at": "Skapat",
    "ends_at": "Mötets slut",
    "deleted_at": "Borttaget",
}
ROOMS_REPORT_DELETED_BY = "Borttaget av"
ROOMS_REPORT_NOT_DELETED = "Läge"
ROOMS_REPORT_STATES = {
    "creator": "Den som skapade rummet",
    "cisco_meeting": "Den som skapade rummet, i Cisco Meeting",
    "admin": "Administratör",
    "automatically": "Automatiskt, efter tidsgränsen",
    "live": "Finns kvar (inom tidsgränsen)",
    "overdue": "Finns kvar efter tidsgränsen",
}
ROOMS_REPORT_MOVED = "Flyttat"
ROOMS_REPORT_TIMES = "{n} gång(er)"
ROOMS_REPORT_CANCELLED = "Inställt"
YES = "Ja"
DATE_AND_TIME = "{date} kl. {time}"
DURATION = "{hours} tim {minutes} min"
DURATION_MINUTES = "{minutes} min"
ADMIN_ONLY = "Det kommandot är bara för administratörer."

INVITATION_HEADER = "Distansmöte {date} kl. {start}–{end}"
INVITATION_VIDEO = "Videoadress: {address}"
INVITATION_CALL_ID = "Samtals-ID: {call_id}"
INVITATION_HOW = "Så ansluter du:"
INVITATION_JOIN = {
    "video_room": (
        "Via videokonferenssystem: skriv in videoadressen {address} med pekskärmen eller fjärrkontrollen "
        "och tryck på ”Ring upp”."
    ),
    "browser": "Via Cisco Meeting i en webbläsare med kamera och mikrofon: öppna {link}",
    "phone": "Via telefon (endast ljud): ring {number} och ange samtals-ID {call_id}. Följ sedan instruktionerna.",
}
# Without a configured join link: the web app still joins by call ID or video address.
INVITATION_JOIN_BROWSER_NO_LINK = (
    "Via Cisco Meeting i en webbläsare med kamera och mikrofon: öppna Cisco Meetings webbapp, välj att ansluta "
    "till ett möte och ange samtals-ID {call_id} eller videoadressen {address}. Har du inte adressen till "
    "webbappen, be den som skickade inbjudan om länken till mötet."
)
INVITATION_JOIN_FILM = "Filmen ”Anslut till distansmötesrum via Cisco Meeting” visar hur du gör: {link}"
INVITATION_START = "Vi inleder mötet med att kontrollera att alla ser och hör varandra."

ERRORS = {
    # input
    "personal_number": PERSONAL_NUMBER_REFUSED,
    "invisible_characters": "Texten innehåller osynliga styrtecken. Skriv den igen utan att klistra in.",
    "unit_missing": "Skriv enhetens namn, t.ex. ”HC Torsås”.",
    "unit_too_long": "Enhetens namn får vara högst 40 tecken.",
    "unit_characters": (
        "Enhetens namn får bara innehålla bokstäver, siffror, mellanslag, punkt, bindestreck och apostrof."
    ),
    "unit_digits": "Enhetens namn får innehålla högst 4 siffror, t.ex. ”Avd 12”.",
    "unit_not_listed": "Välj enheten i listan i kortet. Saknas din enhet, kontakta den som förvaltar Distansmöte.",
    "label_missing": "Välj mottagare i listan, eller skriv vem mottagaren är, t.ex. ”Kommunen – hemtjänsten”.",
    "label_email": (
        "Skriv ingen e-postadress – inbjudan får aldrig skickas via e-post. "
        "Skriv bara vem mottagaren är, t.ex. ”Kommunen – hemtjänsten”."
    ),
    "label_too_long": "Mottagaren får beskrivas med högst 40 tecken.",
    "label_characters": (
        "Mottagaren får bara beskrivas med bokstäver, siffror, mellanslag och tecknen . , - – ' ( ) /."
    ),
    "label_digits": "Mottagaren får beskrivas med högst 4 siffror – skriv en roll, inte ett nummer.",
    "role_not_listed": "Välj mottagare i listan i kortet, eller skriv en egen kort beskrivning.",
    "channel_missing": "Välj kanal: Cosmic Link, Cosmic Messenger eller telefon.",
    "recipient_missing": "Välj vilken mottagare det gäller.",
    "date_invalid": "Datumet är ogiltigt. Välj ett datum i kortet.",
    "time_invalid": "Starttiden är ogiltig. Skriv den som tt:mm, t.ex. 13:30.",
    "length_invalid": "Välj mötets längd i kortet.",
    "length_out_of_range": "Ett möte får vara från 5 minuter till 8 timmar långt.",
    "in_the_past": "Den tiden har redan varit. Välj en tid framåt.",
    "too_far_ahead": "Mötet kan planeras högst ett år i förväg.",
    "time_does_not_exist": (
        "Den tiden finns inte den dagen: klockan ställs fram en timme vid sommartid. Välj en annan starttid."
    ),
    # meetings
    "not_found": "Jag hittar inget sådant mötesrum. Skriv /distansmöte lista för att se dina rum.",
    "not_allowed": (
        "Bara den som har mötesrummet – den som skapade det eller har fått det överlämnat – eller en "
        "administratör kan ändra eller ta bort det."
    ),
    "already_deleted": "Mötesrummet är redan borttaget.",
    "room_service_unavailable": (
        "Mötestjänsten (Cisco Meeting Server) svarar inte just nu. Försök igen om en stund; skriv "
        "/distansmöte lista för att se hur dina mötesrum står till."
    ),
    "room_service_down": (
        "Mötestjänsten (Cisco Meeting Server) svarar inte just nu, så jag kan inte skapa, ändra eller ta bort "
        "mötesrum. Inget har ändrats – försök igen om några minuter. Allt annat fungerar som vanligt."
    ),
    "room_pending": (
        "Mötesrummet skapas. Mötestjänsten (Cisco Meeting Server) svarar långsamt just nu, så du får ett "
        "meddelande här när det är klart. Skapa inget nytt rum för mötet under tiden."
    ),
    "no_unique_room": "Jag kunde inte få fram ett unikt mötesrum. Inget skapades – försök igen.",
    "recipient_exists": "Den mottagaren finns redan i listan.",
    "too_many_recipients": "Ett möte kan ha högst 20 mottagare.",
    "recipient_not_found": "Välj en mottagare i listan.",
    "not_sent_yet": "Markera först att inbjudan är skickad till mottagaren.",
    "call_active": "Det pågår ett samtal i rummet. Bekräfta att samtalet ska avslutas innan rummet tas bort.",
    "same_time": "Mötet har redan den tiden. Välj en ny dag eller starttid för att flytta det.",
    "card_out_of_date": (
        "Det här kortet visar mötets gamla tid: mötet har flyttats sedan dess. Använd det senaste rumskortet, "
        "eller skriv /distansmöte lista."
    ),
    "deletion_under_way": "Mötesrummet håller på att tas bort automatiskt och kan inte flyttas.",
    "colleague_missing": "Skriv kollegans namn eller e-postadress för att lämna över mötet.",
    "no_colleague_found": (
        "Jag hittar ingen kollega med det namnet eller den adressen. Skriv en del av kollegans namn (i Webex "
        "går även hela e-postadressen). I Teams behöver kollegan ha skrivit till Distansmöte en gång "
        "(t.ex. /distansmöte hjälp), så att jag kan nå hen."
    ),
    "people_search_unavailable": "Jag kan inte söka efter kollegor just nu. Försök igen om en stund.",
}
# Answers to a step that is already done: calm, not an error.
ALREADY_DONE = {
    "already_created": "Det här kortet har redan skapat ett mötesrum. Skriv /distansmöte lista för att se det.",
    "creation_in_progress": "Mötesrummet håller på att skapas. Du får svar här strax.",
    "already_sent": "Det är redan markerat som skickat.",
    "already_confirmed": "Bekräftelsen är redan registrerad.",
    "already_phoned": "Det är redan markerat att mottagaren har meddelats per telefon.",
    "already_deleted": "Mötesrummet är redan borttaget.",
    "already_theirs": "Mötet är redan kollegans.",
}
# A room creation finished after its request had gone (the bot restarted, or the CMS answered late),
# with the room card and the invitation.
CREATION_FINISHED_TITLE = "{room} är skapat"
CREATION_FINISHED = "Det här är mötesrummet för mötet {when}, som höll på att skapas."
CREATION_FAILED_TITLE = "Inget mötesrum skapades"
CREATION_FAILED = "Mötesrummet för mötet {when} kunde inte skapas, och inget rum finns kvar. {reason}"

ADMIN_ORPHANS_DELETED = (
    "Jag tog bort {count} mötesrum på mötestjänsten som Distansmöte hade skapat men som inget möte hörde "
    "till (äldre än en timme):"
)

INVALID_FORM = "Något i kortet var inte ifyllt som det ska. Fyll i kortet igen."
INPUT_NOT_TEXT = "Ett fält i kortet kom inte som text, så jag kunde inte läsa det. Inget har ändrats."

# Card submissions the router cannot take (``bot.core.problems.Problem``).
UNROUTABLE = {"unknown_action": UNKNOWN_ACTION, "stale_card": STALE_CARD, "invalid_form": INVALID_FORM,
              "input_not_text": INPUT_NOT_TEXT}

# -- reminders and admin alerts (cards/reminders.py) ------------------------------------------------

LATE = "(försenad påminnelse)"

# The title says what is missing: a confirmation, the invitation, or (some of each) either.
UNCONFIRMED_TITLE = "{room}: {count} mottagare har inte bekräftat"
NOT_SENT_TITLE = "{room}: inbjudan är inte skickad till {count} mottagare"
NOT_PHONED_TITLE = "{room}: ring {count} mottagare innan mötet"
MISSING_TITLE = "{room}: {count} mottagare har inte fått eller bekräftat mötesinformationen"
MEETING_STARTS = "Mötet börjar kl. {start}."
UNCONFIRMED_TEXT = "De här mottagarna har inte bekräftat att de har fått mötesinformationen:"
NOT_SENT_TEXT = "Inbjudan är inte markerad som skickad till:"
CALL_THEM = "Ring dem och kontrollera att de har videoadressen och samtals-ID:t."
# The routine: a recipient without Link or Messenger "ska få informationen via en telefonkontakt".
NOT_PHONED_TEXT = "De här mottagarna har inte meddelats per telefon ännu:"
RING_THEM = (
    "Ring dem innan mötet och läs upp mötesuppgifterna (”Per telefon – läs upp” i kortet för mötesrummet). "
    "Klicka sedan på Skickat."
)
NOBODY_TITLE = "{room}: ingen mottagare är registrerad"
NOBODY_TEXT = (
    "Mötet börjar kl. {start}, men ingen mottagare är registrerad. Har alla som ska vara med fått "
    "videoadressen och samtals-ID:t via Cosmic Link, Cosmic Messenger eller telefon? Ring dem som saknas."
)

START_TITLE = "{room} börjar kl. {start}"
JOIN_CHECK_TITLE = "Har alla anslutit till {room}?"
JOIN_CHECK_ALL = "Alla är anslutna: {joined} av {expected} som väntas."
JOIN_CHECK_SOME = "{joined} av {expected} som väntas är anslutna."
JOIN_CHECK_NOBODY = "Ingen är ansluten till mötesrummet än. {expected} väntas."
JOIN_CHECK_EXPECTED = "Som väntas räknas mottagarna och du själv."
JOIN_CHECK_WAYS = {"video": "Via videosystem", "browser": "Via webbläsare", "phone": "Via telefon"}
JOIN_CHECK_MISSING = "Saknas någon? Ge dem uppgifterna igen:"
JOIN_CHECK_DIAL_IN = "Ring in"
JOIN_CHECK_DIAL_IN_VALUE = "{number}, samtals-ID {call_id}"
JOIN_CHECK_UNAVAILABLE = ("Mötestjänsten svarar inte just nu, så Distansmöte kan inte se vilka som är anslutna. "
                          "Tryck på Titta igen om en stund.")
JOIN_CHECK_PRIVATE = "Distansmöte räknar bara hur många som är med och hur de anslöt, inga namn eller nummer."
JOIN_CHECK_AGAIN = "Titta igen"
JOINED_NOW = "Anslutna just nu"
START_TEXT = "Inled mötet med att kontrollera att alla ser varandra och att ljudet är bra."
START_TIPS_TITLE = "Tips"
START_TIPS = (
    "Be var och en säga något, så att du hör att ljudet fungerar hos alla.",
    "Kontrollera att alla syns i bild och att ingen sitter i motljus.",
    "Den som deltar per telefon ser ingen bild – säg vem som talar.",
    "Ekar eller brusar det? Be alla stänga av mikrofonen när de inte pratar.",
)
TIP_LINKS = {
    "link_meeting_tips": "Tips inför distansmöte",
    "link_film_picture_sound": "Film: Konfigurera bild och ljud i Cisco Meeting",
}

CLEANUP_TITLE = "Mötet är slut – ta bort {room}"
FOLLOWUP_TITLE = "Påminnelse: {room} finns kvar"
CLEANUP_TEXT = (
    "Enligt rutinen ska den som skapade mötesrummet ta bort det efter mötet, så att det aldrig "
    "används igen."
)
CLEANUP_FILM = "Hur du gör visas i filmen {film}."
DELETE_FILM_TITLE = "”Ta bort mötesrum i Cisco Meeting”"
CLEANUP_FILM_ON_NAVET = "{film} på intranätet Navet"
CLEANUP_DEADLINE = (
    "Tar du inte bort det, påminner jag dig under arbetstid. Finns det kvar {deadline}, tar jag bort det "
    "själv, eftersom rutinen kräver att rummet tas bort."
)
SNOOZE_15 = "Mötet pågår – påminn om 15 min"
SNOOZE_60 = "Påminn om en timme"

SNOOZED = "Okej, jag påminner dig igen kl. {time}."
ALREADY_SNOOZED = "Jag påminner dig redan kl. {time}."

AUTO_DELETED_TITLE = "{room} är borttaget"
DELETED_BY_ADMIN_TITLE = "{room} har tagits bort av en administratör"
DELETED_BY_ADMIN_TEXT = ("En administratör tog bort mötesrummet {when}. Det kan inte användas igen. Ska mötet "
                         "hållas ändå: skapa ett nytt rum med /distansmöte ny och skicka den nya inbjudan.")
DELETION_WAITS_TITLE = "{room} tas bort när samtalet är slut"
DELETION_WAITS_TEXT = ("Tidsgränsen för att ta bort mötesrummet var {deadline}, men ett samtal pågår fortfarande "
                       "i rummet. Jag försöker igen kl. {retry}. Avsluta samtalet när ni är klara.")
DELETED_IN_CISCO_MEETING_TITLE = "{room} är borttaget i Cisco Meeting"
DELETED_IN_CISCO_MEETING_TEXT = ("Mötesrummet finns inte längre i mötestjänsten: det har tagits bort i Cisco Meeting. "
                                 "Jag påminner inte mer om det.")
ROOM_IN_CISCO_MEETING = "Rummet finns också i din Cisco Meeting-app, där du kan ta bort det när mötet är slut."
NO_CMS_USER_TITLE = "Dina mötesrum syns inte i din Cisco Meeting-app"
NO_CMS_USER_TEXT = ("Jag hittade inget konto i Cisco Meeting med din e-postadress, så rummen skapas utan ägare. De "
                    "fungerar som vanligt, men ta bort dem här: med knappen på kortet eller /distansmöte ta bort. "
                    "Kontakta IT-förvaltningen om du vill att rummen ska synas i Cisco Meeting.")
AUTO_DELETED_TEXT = (
    "Mötesrummet fanns fortfarande kvar efter mötet. Rutinen kräver att rummet tas bort, så jag tog bort "
    "det {when}. Det kan inte användas igen. Nästa gång: ta bort rummet när mötet är slut – enligt "
    "rutinen är det den som skapade rummet som gör det."
)

ADMIN_TITLE = "Distansmöte – till administratör"
ADMIN_CALL_ACTIVE = (
    "{room} skulle tas bort automatiskt {deadline}, men det pågår ett samtal i rummet. "
    "Jag försöker igen kl. {retry}."
)
ADMIN_GONE = (
    "Jag kan inte längre nå den som skapade {room} (personen eller boten finns inte kvar i chatten). "
    "Påminnelserna om rummet är stoppade; rummet tas bort automatiskt {deadline}."
)
ADMIN_DELETION_FAILING = (
    "{room} kunde inte tas bort automatiskt: mötestjänsten (Cisco Meeting Server) svarar inte. "
    "Jag fortsätter att försöka."
)
ADMIN_FAILED = "En påminnelse om {room} kunde inte levereras efter {attempts} försök."
ADMIN_ORPHANS = (
    "Det finns {count} mötesrum på mötestjänsten som Distansmöte har skapat men inte längre har något möte för:"
)
ADMIN_ORPHANS_HOW = "Kör ”distansmote sweep --delete” för att ta bort dem."

DAY_AND_TIME = "den {day}/{month} kl. {time}"
AT_THE_DEADLINE = "vid tidsgränsen"

# -- the demo page ------------------------------------------------------------------------------------

# Shown instead of a typed personnummer: the demo keeps no copy of one either.
DEMO_HIDDEN_TEXT = "(Meddelandet visas inte: det innehöll ett personnummer.)"
# The demo's database failed (a full disk, say): nothing was done.
DEMO_STORE_DOWN = (
    "Jag kan inte spara något just nu, eftersom demons databas inte fungerar (disken kan vara full). "
    "Inget har gjorts. Försök igen om en stund."
)

# -- the bot's own web pages: /privacy (linked from the Teams app as its privacy statement) and /terms --

PRIVACY_PAGE_TITLE = "Distansmöte – så hanteras uppgifterna om dig"
# (heading, paragraphs); {days} is DISTANSMOTE_RETENTION_DAYS, {hours} the automatic deletion's hours.
PRIVACY_PAGE = (
    ("Vad Distansmöte är", (
        "Distansmöte är regionens chattbot i Webex och Microsoft Teams. Den skapar ett unikt mötesrum i "
        "regionens mötestjänst (Cisco Meeting Server) för varje distansmöte och ser till att rummet tas bort "
        "efter mötet. Tjänsten drivs av regionens IT.",
    )),
    ("Vad som sparas om dig som personal", (
        "För varje mötesrum du skapar: ditt id i Webex eller Teams och ditt namn så som chatten visar det, så "
        "att en administratör kan se vem som äger ett rum som inte har tagits bort.",
        "Om mötesrummet: enhet, rummets namn, videoadress, samtals-ID och gästkod, mötets start- och sluttid, "
        "när rummet togs bort och av vem.",
        "Om mottagarna: bara etiketter som du väljer (till exempel ”Kommunen – hemtjänsten”), hur inbjudan "
        "skickades och när den bekräftades – aldrig namn, telefonnummer eller adresser.",
        "Chattens adress för att kunna skriva till dig först (påminnelser), och den enhet du senast valde.",
        "En granskningslogg: vem som gjorde vad med vilket rum och när, med koder – aldrig text du har skrivit.",
    )),
    ("Vad som aldrig sparas", (
        "Patientuppgifter – namn, personnummer, diagnoser. Ett meddelande som innehåller ett personnummer "
        "tas inte emot och ingenting av det sparas. Texten i dina meddelanden sparas inte heller.",
    )),
    ("Varför", (
        "För att skapa och ta bort mötesrum enligt regionens rutin för distansmöten, påminna dig och följa "
        "upp att rummen tas bort, och för att ge länet statistik per enhet (hur många rum som skapats och "
        "hur de togs bort) utan uppgifter om personer.",
    )),
    ("Hur länge", (
        "Ett mötesrum tas bort automatiskt {hours} timmar efter mötets slut om du inte har gjort det.",
        "{days} dagar efter att rummet tagits bort tas ditt namn, ditt id, gästkoden och mottagarnas "
        "etiketter bort från mötet. Kvar blir enhet, tider och om rummet togs bort av dig, av en "
        "administratör eller automatiskt – det som länets statistik räknar.",
        "Chattens adress och den enhet du senast valde tas bort när du inte har använt tjänsten på {days} dagar.",
        "Granskningsloggen sparas enligt regionens beslut om bevarande och gallring, eftersom den visar vad "
        "som har gjorts i regionens system.",
    )),
    ("Vem som kan se uppgifterna", (
        "Du ser dina egna mötesrum. Administratörer av Distansmöte ser alla aktiva rum och vem som skapade dem. "
        "Regionens IT-drift har tillgång till databasen. Ingen annan.",
    )),
    ("Var tjänsten körs", (
        "På regionens servrar; mötesrummen finns i regionens Cisco Meeting Server. Meddelandena går via Webex "
        "(Cisco) eller Microsoft Teams (Microsoft) enligt regionens avtal med dem.",
    )),
    ("Dina rättigheter", (
        "Du kan begära att få ut eller få raderat det som sparas om dig. Kontakta IT-supporten eller regionens "
        "dataskyddsombud.",
    )),
)

TERMS_PAGE_TITLE = "Distansmöte – villkor för användning"
TERMS_PAGE = (
    ("Villkor", (
        "Distansmöte får användas av regionens personal för distansmöten enligt regionens rutin.",
        "Skriv aldrig patientuppgifter, som namn eller personnummer, till appen.",
        "Skicka inbjudan via Cosmic Link eller Cosmic Messenger – aldrig med e-post.",
        "Ta bort mötesrummet när mötet är slut.",
        "Hur uppgifterna om dig hanteras står på sidan ”Så hanteras uppgifterna om dig” (/privacy).",
        "Frågor: kontakta IT-supporten.",
    )),
)
