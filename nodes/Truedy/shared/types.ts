export interface TruedyPhoneNumber {
	id?: string;
	phone_number: string;
}

export interface TruedyAgent {
	id: string;
	name?: string;
	status?: string;
	outbound_phone_numbers?: TruedyPhoneNumber[];
}
